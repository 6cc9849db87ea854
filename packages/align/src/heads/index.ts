export { HeadModel, type HeadModelOptions } from './head-model.js';
export { embedTexts, fitRidge, type Features, type EmbedOptions, type RidgeModel } from './ridge.js';
