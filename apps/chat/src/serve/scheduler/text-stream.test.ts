import { describe, expect, it } from 'vitest';
import { Tokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { TextStream } from './text-stream.js';

const tok = new Tokenizer(trainBpeSync('', { vocabSize: 258, name: 'byte', specialTokens: ['<|im_start|>', '<|im_end|>'] }));
const ids = (s: string) => tok.encode(s, { allowedSpecial: 'all' });

describe('TextStream', () => {
  it('special tokens add no text (skip_special_tokens), other tokens decode as the tokenizer does', () => {
    const ts = new TextStream(tok, []);
    let out = '';
    for (const id of ids('<|im_start|>héllo<|im_end|> wörld')) out += ts.push(id).text;
    out += ts.finish();
    expect(out).toBe('héllo wörld');
    expect(ts.text).toBe(out);
  });

  it('holds back a possible stop string and cuts before it', () => {
    const ts = new TextStream(tok, ['\n\n']);
    let out = '';
    let stopped = false;
    for (const id of ids('ab\ncd\n\nef')) {
      const r = ts.push(id);
      out += r.text;
      if ((stopped = r.stopped)) break; // the scheduler ends the request here
    }
    expect(stopped).toBe(true);
    expect(out).toBe('ab\ncd');
  });
});
