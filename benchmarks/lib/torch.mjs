// The Python that has PyTorch (Debian's python3-torch at /usr/bin/python3), or null: benchmarks run
// their PyTorch peers with it and say so when it is absent. Debian's torch calls whatever libblas.so.3
// the alternatives system points at: the reference BLAS (libblas3) is ~10× slower than OpenBLAS, so a
// peer measured on it is no peer — findTorchPython warns (install libopenblas0-pthread).
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

export function findTorchPython() {
  for (const p of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(p, ['-c', 'import torch'], { stdio: 'ignore' });
      warnReferenceBlas();
      return p;
    } catch {
      // try the next one
    }
  }
  return null;
}

function warnReferenceBlas() {
  let blas = '';
  try {
    blas = realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    return; // not Debian's layout: nothing to check
  }
  if (!/openblas|blis|mkl/i.test(blas)) {
    console.log(`WARNING: libblas.so.3 is ${blas} (the reference BLAS), so the PyTorch peer runs ~10× slower than it should: apt-get install libopenblas0-pthread`);
  }
}
