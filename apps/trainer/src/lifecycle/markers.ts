/**
 * Stage markers: `<out>/stages/<stage>.json`, written atomically as the last act of a stage. A stage
 * is done when its marker exists, follows the marker of the stage before it (`after` = that
 * marker's `id`), was made with the same settings, and every output it lists still exists. Redoing a
 * stage deletes its marker first, so a crash mid-way never leaves a marker over half a result, and
 * gives it a new `id`, so every later stage is redone too.
 *
 *   const m = await doneMarker('out', 'sft', pretrainMarker.id, settings);   // null → run the stage
 *   await clearMarker('out', 'sft');
 *   …  // the stage's work
 *   await writeMarker('out', { stage: 'sft', after: pretrainMarker.id, settings, outputs: ['sft/best'], seconds: 91.2 });
 */
import { randomUUID, createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@llm/tensor-gpu';

export interface StageMarker {
  stage: string;
  /** New for every completion of the stage. */
  id: string;
  /** The id of the previous stage's marker it was built on (null for the first stage). */
  after: string | null;
  /** sha256 of the stage's settings (JSON). */
  settings: string;
  /** Paths relative to the run folder that hold the result. */
  outputs: string[];
  seconds: number;
  finishedAt: string;
}

export const markerPath = (out: string, stage: string) => join(out, 'stages', `${stage}.json`);

/** sha256 of a settings value as JSON, hex: settingsHash({ a: 1 }) → '015abd7f…'. */
export function settingsHash(settings: unknown): string {
  return createHash('sha256').update(JSON.stringify(settings ?? null)).digest('hex');
}

/** The marker of `stage`, or null when there is none or it is unreadable (then the stage is redone). */
export async function readMarker(out: string, stage: string): Promise<StageMarker | null> {
  const text = await readFile(markerPath(out, stage), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const m = JSON.parse(text) as Partial<StageMarker>;
    const ok = m.stage === stage && typeof m.id === 'string' && (m.after === null || typeof m.after === 'string') && typeof m.settings === 'string' && Array.isArray(m.outputs) && m.outputs.every((o) => typeof o === 'string');
    return ok ? (m as StageMarker) : null;
  } catch {
    return null;
  }
}

/** The stage's marker when the stage is done and current (see the module comment), else null. */
export async function doneMarker(out: string, stage: string, after: string | null, settings: unknown): Promise<StageMarker | null> {
  const m = await readMarker(out, stage);
  if (!m || m.after !== after || m.settings !== settingsHash(settings)) return null;
  for (const o of m.outputs) if (!(await stat(join(out, o)).catch(() => null))) return null;
  return m;
}

export async function clearMarker(out: string, stage: string): Promise<void> {
  await rm(markerPath(out, stage), { force: true });
}

/** Record the stage as done (atomically); returns the marker with its new id. */
export async function writeMarker(out: string, m: { stage: string; after: string | null; settings: unknown; outputs: string[]; seconds: number }): Promise<StageMarker> {
  const marker: StageMarker = { stage: m.stage, id: randomUUID(), after: m.after, settings: settingsHash(m.settings), outputs: m.outputs, seconds: Math.round(m.seconds * 10) / 10, finishedAt: new Date().toISOString() };
  await mkdir(join(out, 'stages'), { recursive: true });
  await writeFileAtomic(markerPath(out, m.stage), new TextEncoder().encode(JSON.stringify(marker, null, 2) + '\n'));
  return marker;
}
