// tsup config of @llm/kit: the shared one, with shims so `import.meta.url` (repo-root.ts) works in the CJS build too.
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...shared, shims: true });
