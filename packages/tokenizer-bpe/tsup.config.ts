// tsup config of @llm/tokenizer-bpe: the shared one plus the `llm-tokenizer` CLI entry.
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...shared, entry: ['src/index.ts', 'src/bin.ts'] });
