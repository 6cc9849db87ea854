// Setup module of the data-parallel tests: a tiny GPT-2 on a generated corpus (the same the test's
// single-process reference uses), optionally through an explicit Objective (the "any loss" path),
// resumed from a checkpoint, or with a fault injected into one rank (exit mid-step, weights perturbed).
import { tf, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { TokenShard } from '../data/shard.js';
import { splitTokens, WindowSampler, type HostBatch } from '../data/batches.js';
import { loadTrainingCheckpoint } from '../checkpoint/checkpoint.js';
import type { Objective } from '../loop/objective.js';
import type { ReplicaSetup, SetupContext } from '../parallel/replica.js';

export interface FixtureArgs {
  model: ModelConfigInput;
  batchSize: number;
  seed: number;
  /** Train through an explicit Objective (cross-entropy) instead of the loop's default loss. */
  objective?: boolean;
  /** Resume from this checkpoint directory. */
  resume?: string;
  /** On rank `rank`, process.exit(code) inside the loss of its training micro-batch number `call` (0-based). */
  exitAt?: { rank: number; call: number; code: number };
  /** On rank `rank`, add 1e-3 to the first weight after its training micro-batch number `call`. */
  perturbAt?: { rank: number; call: number };
}

/** The corpus of the tests: repeated phrases with noise (48-token vocabulary). */
export function fixtureShard(): TokenShard {
  const ids = Array.from({ length: 6000 }, (_, i) => ((i * 7) % 13 === 0 ? (i * 31) % 40 : (i % 20) + 3));
  return TokenShard.fromIds(ids, { vocabSize: 48, tokenizer: { name: 'test', hash: 'h' }, documents: 1, sources: [] });
}

export function fixtureData(batchSize: number, seed: number) {
  const { train, val } = splitTokens(fixtureShard(), 0.1);
  return {
    train: new WindowSampler(train, { batchSize, blockSize: 16, seed }),
    val: new WindowSampler(val, { batchSize, blockSize: 16, seed: seed + 1 }),
  };
}

export async function setup(args: FixtureArgs, ctx: SetupContext): Promise<ReplicaSetup<HostBatch>> {
  const resumed = args.resume ? await loadTrainingCheckpoint(args.resume) : null;
  const model = resumed?.model ?? new TransformerLM(args.model);
  let calls = 0; // this rank's training micro-batches so far
  let perturb = false;
  const objective: Objective<HostBatch> = {
    loss: (m, b, { training }) => {
      if (training) {
        const n = calls++;
        if (args.exitAt?.rank === ctx.rank && n === args.exitAt.call) process.exit(args.exitAt.code);
        perturb = args.perturbAt?.rank === ctx.rank && n === args.perturbAt.call;
      }
      const x = tf.tensor2d(b.inputs, [b.batch, b.length], 'int32');
      const y = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
      const out = m.run(x, { training });
      out.hidden.dispose();
      const loss = crossEntropy(out.logits!, y) as tf.Scalar;
      tf.dispose([x, y]);
      return { loss, metrics: { tokens_seen: b.batch * b.length } };
    },
    tokens: (b) => b.batch * b.length,
    release: () => {
      if (!perturb) return;
      perturb = false;
      const [, w] = model.trainableParameters()[0]!;
      tf.tidy(() => w.assign(w.add(1e-3)));
    },
  };
  return {
    model,
    data: fixtureData(args.batchSize, args.seed),
    ...(args.objective || args.exitAt || args.perturbAt ? { objective } : {}),
    ...(resumed ? { resume: resumed } : {}),
  };
}
