// tsup config of the llm-chat app: ESM only (a CLI), library entry + bin.
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...shared, entry: ['src/index.ts', 'src/bin.ts'], format: ['esm'], dts: false });
