/**
 * Every size bound of @llm/train on untrusted input, in one place: SFT JSONL records, trainer
 * states, token shards. A value past a bound is a TrainError naming the file, the field and the
 * bound, raised before anything is allocated for it.
 *
 *   TRAIN_LIMITS.maxRecordBytes                                   // 1 MiB per JSONL line
 *   await readSftJsonl('big.jsonl', { maxRecordBytes: 16 << 20 })  // raise it for trusted data
 */
export interface TrainLimits {
  /** Longest SFT JSONL line (bytes). Raise per call: readSftJsonl / iterateSftJsonl `maxRecordBytes`. */
  readonly maxRecordBytes: number;
  /** Most messages in one SFT record. Raise per call: `maxMessages`. (SFT renders every prefix of a conversation: cost grows with messages × length.) */
  readonly maxMessages: number;
  /** Largest trainer_state.json (bytes); fixed. */
  readonly maxStateBytes: number;
  /** Longest line of a JSONL text file tokenized into a shard (characters: one document); fixed. */
  readonly maxJsonlLineChars: number;
}

export const TRAIN_LIMITS: TrainLimits = Object.freeze({
  maxRecordBytes: 1 << 20,
  maxMessages: 512,
  maxStateBytes: 16 << 20,
  maxJsonlLineChars: 64 << 20,
});
