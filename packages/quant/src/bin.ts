#!/usr/bin/env node
// The `llm-quant` executable: see cli.ts.
import { main } from './cli.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
