import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@llm/peft public surface', () => {
  it('exports the documented API', () => {
    for (const name of ['getPeftModel', 'PeftModel', 'loadAdapter', 'saveAdapter', 'trainableParameters', 'PeftError', 'prepareQlora', 'LoraLinear', 'Ia3Linear', 'BottleneckLinear']) {
      expect(api, name).toHaveProperty(name);
    }
  });
  it('its README no longer calls it a placeholder', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).not.toMatch(/not implemented yet/i);
    expect(readme).toMatch(/getPeftModel/);
  });
});
