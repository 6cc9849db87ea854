// tsup config of @llm/quant: the shared one plus the `llm-quant` CLI entry.
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...shared, entry: ['src/index.ts', 'src/bin.ts'] });
