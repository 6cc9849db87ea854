// tsup config of @llm/train: the shared one plus the data-parallel worker entry (dist/parallel-worker.js,
// which trainParallel starts in each worker thread; it has no types of its own).
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...shared, entry: { index: 'src/index.ts', 'parallel-worker': 'src/parallel/worker.ts' }, dts: { entry: { index: 'src/index.ts' } }, shims: true });
