// The server of llm-chat (`llm-chat serve`): for tests and embedding.
export { ServeError, isCacheFull, type ServeErrorCode } from './errors.js';
export type { StepEngine, Sequence, StepInput, CacheStats } from './scheduler/engine.js';
export { TfjsEngine, type TfjsEngineOptions } from './scheduler/tfjs-engine.js';
export { Scheduler, type GenRequest, type GenResult, type SchedulerOptions, type SchedulerStats } from './scheduler/scheduler.js';
export { createServeContext, type ServeContext, type ServeContextOptions } from './context.js';
export { buildServer, type ServerOptions } from './http/server.js';
export { loadServed, meanHidden, type Served, type LoadServedOptions, type EngineKind } from './load.js';
export { DocIndex, type Passage } from './rag/doc-index.js';
export { chunkText, type ChunkOptions } from './rag/chunk.js';
export { grounding, type Citation } from './rag/grounding.js';
export { runServe, serveProgram } from './cli.js';
export { CHAT_PAGE } from './web/page.js';
