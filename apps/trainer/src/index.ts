// The llm-train app's modules, for tests and embedding (the app is not published).
export { main, program } from './cli.js';
export { generateCorpus, type CorpusOptions } from './corpus/generator.js';
export { makeEvalTasks, type EvalTaskFileOptions } from './corpus/eval-tasks.js';
