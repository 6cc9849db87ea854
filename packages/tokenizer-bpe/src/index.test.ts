// The public surface works end to end from the package entry: train → save → load → encode.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@llm/tokenizer-bpe public surface', () => {
  it('exports the encoder, trainer and formats', () => {
    for (const name of ['Tokenizer', 'getEncoding', 'trainBpe', 'trainBpeReference', 'saveTokenizer', 'loadTokenizer', 'toHfTokenizerJson', 'TokenizerError', 'TOKENIZER_LIMITS', 'resolveLimits', 'compileSafePattern', 'SafePattern']) {
      expect(api, name).toHaveProperty(name);
    }
  });

  it('exports chat templates', () => {
    for (const name of ['applyChatTemplate', 'renderChatSegments', 'encodeChat', 'chatmlTemplate', 'jinjaChatTemplate', 'loadChatTemplate', 'CHATML_TEMPLATE', 'CHATML_SPECIAL_TOKENS']) {
      expect(api, name).toHaveProperty(name);
    }
    expect(api.applyChatTemplate([{ role: 'user', content: 'hi' }], { template: 'chatml', addGenerationPrompt: true })).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('trains, saves in each format, reloads and encodes identically', async () => {
    const text = 'the cat sat on the mat; the cat ate the rat. '.repeat(50);
    const def = await api.trainBpe(text, { vocabSize: 300, specialTokens: ['<|end|>'] });
    const tok = new api.Tokenizer(def);
    const ids = tok.encode('the cat sat<|end|>', { allowedSpecial: 'all' });
    expect(tok.decode(ids)).toBe('the cat sat<|end|>');
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    try {
      for (const format of api.TOKENIZER_FILE_FORMATS) {
        const path = join(dir, `t.${format}`);
        await api.saveTokenizer(path, def, format);
        // .tiktoken files hold only ranks: pattern and specials come from the caller.
        const opts = format === 'tiktoken' ? { pattern: def.pattern, specialTokens: def.specialTokens } : {};
        const back = await api.loadTokenizer(path, opts);
        expect(new api.Tokenizer(back).encode('the cat sat<|end|>', { allowedSpecial: 'all' }), format).toEqual(ids);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
