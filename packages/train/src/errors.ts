/**
 * Every error @llm/train throws on purpose is a TrainError with a stable `code`.
 *
 *   try { await readJsonl('data.jsonl') } catch (e) {
 *     if (e instanceof TrainError && e.code === 'DATA_INVALID') console.error(e.message); // names file and line
 *   }
 */
export type TrainErrorCode =
  | 'CONFIG_INVALID' // a config value has the wrong type or range, or contradicts another
  | 'CONFIG_UNKNOWN_KEY' // a config key this package does not know (typo?)
  | 'DATA_INVALID' // malformed input data (bad JSONL line, wrong fields, corrupt shard)
  | 'DATA_EMPTY' // input data with nothing to train on
  | 'DATA_MISSING' // an input file or directory does not exist
  | 'TOKENIZER_MISMATCH' // data was tokenized with another tokenizer / vocab than the model's
  | 'TEMPLATE_INVALID' // a chat template that does not parse or render
  | 'CHECKPOINT_INVALID' // a training checkpoint that cannot be resumed from (damaged or hostile trainer_state.json, optimizer state)
  | 'CHECKPOINT_MISMATCH' // resuming with another model, other data or another tokenizer than the checkpoint recorded (force to override)
  | 'CHECKPOINT_EXISTS' // a fresh run into an output folder that already holds a checkpoint (force to replace it)
  | 'WORKER_FAILED' // a data-parallel worker crashed, exited or diverged (trainParallel); the last checkpoint is intact
  | 'INVALID_ARGUMENT'; // any other argument out of its allowed range

export class TrainError extends Error {
  readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainError';
    this.code = code;
  }
}
