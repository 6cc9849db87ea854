/**
 * The monorepo's root directory, found from this file's own place (packages/kit/src or
 * packages/kit/dist, three levels down), so it does not depend on the working directory.
 *
 *   repoRoot();   // → '/work/main'
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}
