/**
 * Incremental text of one generation with stop strings: tokens in, text out, never a split UTF-8
 * character, and text that could be the start of a stop string held back until it is known not
 * to be (as @llm/sample's stream does). Special tokens (`<|im_start|>` …) add no text, as vLLM's
 * and HF's `skip_special_tokens` default. `push` returns the newly releasable text and whether a
 * stop string was hit (the text is then cut before it).
 *
 *   const ts = new TextStream(tokenizer, ['\n\n']);
 *   ts.push(id);      // { text: 'Hel', stopped: false }
 *   ts.finish();      // whatever was held back
 */
import { cutAtStop } from '@llm/sample';

export interface DecoderSource {
  decoder(): { push(id: number): string; flush(): string };
  /** Special tokens by text (skipped in the output when given). */
  readonly specialTokens?: ReadonlyMap<string, number>;
}

export class TextStream {
  private readonly dec: { push(id: number): string; flush(): string };
  private readonly special: ReadonlySet<number>;
  private held = '';
  /** All released text. */
  text = '';

  constructor(tokenizer: DecoderSource, private readonly stops: readonly string[]) {
    this.dec = tokenizer.decoder();
    this.special = new Set(tokenizer.specialTokens?.values() ?? []);
  }

  push(id: number): { text: string; stopped: boolean } {
    return this.release(this.special.has(id) ? '' : this.dec.push(id), false);
  }

  /** The end of the generation: flush the decoder and everything held. */
  finish(): string {
    return this.release(this.dec.flush(), true).text;
  }

  private release(piece: string, final: boolean): { text: string; stopped: boolean } {
    this.held += piece;
    const cut = this.stops.length ? cutAtStop(this.held, this.stops) : this.held;
    let out: string;
    let stopped = false;
    if (cut.length < this.held.length || final) {
      stopped = cut.length < this.held.length;
      out = cut;
      this.held = '';
    } else {
      const keep = longestStopPrefixSuffix(this.held, this.stops);
      out = this.held.slice(0, this.held.length - keep);
      this.held = this.held.slice(this.held.length - keep);
    }
    this.text += out;
    return { text: out, stopped };
  }
}

/** Length of the longest suffix of text that is a proper prefix of a stop string. */
function longestStopPrefixSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) for (let k = Math.min(s.length - 1, text.length); k > best; k--) if (text.endsWith(s.slice(0, k))) best = k;
  return best;
}
