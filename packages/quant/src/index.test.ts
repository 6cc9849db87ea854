import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

// The package is a placeholder until its issue lands: its public surface must stay empty and its
// README must say so, so nobody mistakes it for a working API.
describe('@llm/quant placeholder', () => {
  it('exports nothing yet', () => {
    expect(Object.keys(api)).toEqual([]);
  });
  it('says so in its README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/not implemented yet/i);
  });
});
