// The Python that has PyTorch (Debian's python3-torch at /usr/bin/python3), or null: benchmarks run
// their PyTorch peers with it and say so when it is absent.
import { execFileSync } from 'node:child_process';

export function findTorchPython() {
  for (const p of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(p, ['-c', 'import torch'], { stdio: 'ignore' });
      return p;
    } catch {
      // try the next one
    }
  }
  return null;
}
