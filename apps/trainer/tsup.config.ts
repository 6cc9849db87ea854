// tsup config of the llm-train app: ESM only (a CLI), library entry + bin + the data-parallel
// setup module (dist/parallel-setup.js, which @llm/train's trainParallel imports in each worker).
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...shared, entry: ['src/index.ts', 'src/bin.ts', 'src/parallel-setup.ts'], format: ['esm'], dts: false });
