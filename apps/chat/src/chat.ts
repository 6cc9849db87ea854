/**
 * A chat session over a checkpoint: the conversation rendered with a chat template, trimmed from
 * the oldest turns to fit the context, and the reply streamed token by token.
 *
 *   const chat = new ChatSession({ model, tokenizer, template, sampling: { temperature: 0.7 } });
 *   for await (const piece of chat.reply('Hi!')) process.stdout.write(piece);
 *   chat.reset();
 *
 * The context (the model's blockSize) holds prompt + reply. A reply may take up to `maxTokens`
 * (default 256), but the history is trimmed so that at least half the context stays the prompt's:
 * with a 64-token model a reply gets up to 32 tokens after a prompt of up to 32, never one token of
 * prompt. A message too long to fit at all is refused with ChatTurnError; the session goes on.
 * Message content is encoded as plain text (`encodeChat`): typed `<|im_end|>` is not a control token.
 */
import { encodeChat, type ChatMessage, type ChatTemplate, type Tokenizer } from '@llm/tokenizer-bpe';
import { promptRoom, stream, type CausalLMLike, type SamplingOptions } from '@llm/sample';

export interface ChatOptions {
  /** Any CausalLM: @llm/infer's engine (what llm-chat uses) or a TransformerLM. */
  model: CausalLMLike;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  system?: string;
  sampling: SamplingOptions & { seed?: number };
  /** Longest reply in tokens (default 256); a reply also ends when the context is full. */
  maxTokens?: number;
  /** Extra stop strings besides the template's end-of-turn marker. */
  stopStrings?: string[];
}

/** A message that cannot be answered (too long for the model's context); the session is unchanged. */
export class ChatTurnError extends Error {}

/** End-of-turn markers of common templates: generation stops when one is produced. */
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '</s>', '<|end|>', '<|endoftext|>'];
const DEFAULT_MAX_TOKENS = 256;

export class ChatSession {
  private history: ChatMessage[] = [];
  private turns = 0;
  /** Longest reply asked for. */
  readonly maxTokens: number;
  /** Tokens of the context kept free for the reply when the history is trimmed. */
  readonly reserve: number;
  constructor(private readonly o: ChatOptions) {
    const context = o.model.config.blockSize;
    this.maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.reserve = context - promptRoom(context, this.maxTokens);
  }

  reset(): void {
    this.history = [];
  }

  get messages(): readonly ChatMessage[] {
    return this.history;
  }

  /**
   * The prompt for the history plus `user` and the reply's token budget. The oldest turns are
   * dropped (for good: they are not re-rendered on later turns) until the prompt leaves `reserve`
   * tokens free; a prompt that cannot leave even one is a ChatTurnError.
   */
  promptIds(user: string): { ids: number[]; dropped: number; maxNewTokens: number } {
    const context = this.o.model.config.blockSize;
    let msgs: ChatMessage[] = [...this.history, { role: 'user', content: user }];
    let dropped = 0;
    for (;;) {
      const ids = this.encode(msgs);
      if (ids.length <= context - this.reserve || msgs.length <= 1) {
        if (ids.length >= context) {
          throw new ChatTurnError(`this message needs ${ids.length} tokens with the chat template, more than the model's whole context (${context} tokens); send a shorter one.`);
        }
        this.history = msgs.slice(0, -1);
        return { ids, dropped, maxNewTokens: Math.min(this.maxTokens, context - ids.length) };
      }
      msgs = msgs.slice(msgs[0]?.role === 'user' && msgs[1]?.role === 'assistant' ? 2 : 1);
      dropped++;
    }
  }

  /** Stream the assistant's reply to `user` (and remember both). */
  async *reply(user: string, signal?: AbortSignal): AsyncGenerator<string> {
    const { ids, maxNewTokens } = this.promptIds(user);
    const specials = this.o.tokenizer.specialTokens;
    const stopIds = END_OF_TURN.map((t) => specials.get(t)).filter((x): x is number => x !== undefined);
    let text = '';
    for await (const ev of stream(this.o.model, ids, {
      ...this.o.sampling,
      seed: (this.o.sampling.seed ?? 0) + this.turns,
      maxNewTokens,
      tokenizer: this.o.tokenizer,
      stopTokenIds: stopIds,
      stopStrings: [...END_OF_TURN, ...(this.o.stopStrings ?? [])],
      ...(signal ? { signal } : {}),
    })) {
      text += ev.text; // end-of-turn markers are stop strings: stream() never emits them
      if (ev.text) yield ev.text;
    }
    this.turns++;
    this.history.push({ role: 'user', content: user }, { role: 'assistant', content: text.trim() });
  }

  private encode(msgs: ChatMessage[]): number[] {
    const all = this.o.system ? [{ role: 'system', content: this.o.system }, ...msgs] : msgs;
    return encodeChat(this.o.tokenizer, all, { template: this.o.template, addGenerationPrompt: true });
  }
}
