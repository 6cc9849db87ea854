#!/usr/bin/env node
// Committed launcher: npm links bins at install time, before the build has written dist/.
import('../dist/bin.js').catch((e) => {
  console.error(e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/bin.js') ? 'llm-quant: not built yet (dist/bin.js is missing): run `npm run build` in the repository root.' : e);
  process.exit(1);
});
