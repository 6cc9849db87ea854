/**
 * A chat session over a checkpoint: the conversation rendered with a chat template, trimmed from
 * the oldest turns to fit the context, and the reply streamed token by token.
 *
 *   const chat = new ChatSession({ model, tokenizer, template, sampling: { temperature: 0.7 }, maxTokens: 200 });
 *   for await (const piece of chat.reply('Hi!')) process.stdout.write(piece);
 *   chat.reset();
 */
import type { TransformerLM } from '@llm/transformer';
import type { Tokenizer } from '@llm/tokenizer-bpe';
import type { ChatMessage, ChatTemplate } from '@llm/train';
import { stream, type SamplingOptions } from '@llm/sample';

export interface ChatOptions {
  model: TransformerLM;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  system?: string;
  sampling: SamplingOptions & { seed?: number };
  maxTokens: number;
  /** Extra stop strings besides the template's end-of-turn marker. */
  stopStrings?: string[];
}

/** End-of-turn markers of common templates: generation stops when one is produced. */
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '</s>', '<|end|>', '<|endoftext|>'];

export class ChatSession {
  private history: ChatMessage[] = [];
  private turns = 0;
  constructor(private readonly o: ChatOptions) {}

  reset(): void {
    this.history = [];
  }

  get messages(): readonly ChatMessage[] {
    return this.history;
  }

  /** The prompt ids for the history plus `user`, dropping the oldest turns until it fits. */
  promptIds(user: string): { ids: number[]; dropped: number } {
    const room = this.o.model.config.blockSize - this.o.maxTokens;
    let msgs = [...this.history, { role: 'user', content: user }];
    let dropped = 0;
    for (;;) {
      const all = this.o.system ? [{ role: 'system', content: this.o.system }, ...msgs] : msgs;
      const ids = this.o.tokenizer.encode(this.o.template.render(all, { addGenerationPrompt: true }), { allowedSpecial: 'all' });
      if (ids.length <= room || msgs.length <= 1) return { ids: ids.slice(-Math.max(1, room)), dropped };
      msgs = msgs.slice(msgs[0]?.role === 'user' && msgs[1]?.role === 'assistant' ? 2 : 1);
      dropped++;
    }
  }

  /** Stream the assistant's reply to `user` (and remember both). */
  async *reply(user: string, signal?: AbortSignal): AsyncGenerator<string> {
    const { ids } = this.promptIds(user);
    const specials = this.o.tokenizer.specialTokens;
    const stopIds = END_OF_TURN.map((t) => specials.get(t)).filter((x): x is number => x !== undefined);
    let text = '';
    for await (const ev of stream(this.o.model, ids, {
      ...this.o.sampling,
      seed: (this.o.sampling.seed ?? 0) + this.turns,
      maxNewTokens: this.o.maxTokens,
      tokenizer: this.o.tokenizer,
      stopTokenIds: stopIds,
      stopStrings: [...END_OF_TURN, ...(this.o.stopStrings ?? [])],
      eosTokenId: this.o.model.config.eosTokenId,
      ...(signal ? { signal } : {}),
    })) {
      text += ev.text; // end-of-turn markers are stop strings: stream() never emits them
      if (ev.text) yield ev.text;
    }
    this.turns++;
    this.history.push({ role: 'user', content: user }, { role: 'assistant', content: text.trim() });
  }
}
