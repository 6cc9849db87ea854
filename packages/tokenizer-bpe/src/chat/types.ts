/**
 * The shapes chat templating works with: messages in, a template, options, segments out.
 *
 *   const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
 *   applyChatTemplate(messages, { template: 'chatml', addGenerationPrompt: true });
 */
import type { TokenizerLimits } from '../limits.js';

/**
 * One chat message. `role` is free-form ('system', 'user', 'assistant', 'tool', …). Other fields
 * (`tool_calls`, `name`, `tool_call_id`, …) reach a Jinja template as they are, as in HF.
 */
export interface ChatMessage {
  role: string;
  content: string;
  [field: string]: unknown;
}

/**
 * A chat template: Jinja source (HF `chat_template` syntax) plus the variables it reads besides the
 * conversation — a checkpoint's special tokens (`bos_token`, `eos_token`, …).
 * Make one with `chatmlTemplate()`, `jinjaChatTemplate(source)` or `loadChatTemplate(dir)`.
 */
export interface ChatTemplate {
  /** Where it came from, for error messages: 'chatml', a file path, or 'inline template'. */
  readonly name: string;
  /** The Jinja source. */
  readonly source: string;
  /** Template variables from the checkpoint (HF's `special_tokens_map`: `bos_token`, `eos_token`, …). */
  readonly context: Readonly<Record<string, unknown>>;
  /**
   * The checkpoint's other named templates (HF's list-of-{name, template} form), e.g. `tool_use`:
   * applyChatTemplate switches to `tool_use` when `tools` are given, as HF does.
   */
  readonly variants?: Readonly<Record<string, ChatTemplate>>;
}

/** A tool as HF and OpenAI describe it (a JSON schema, e.g. `{ type: 'function', function: { name, description, parameters } }`). */
export type ChatTool = Record<string, unknown>;

/** Options of `applyChatTemplate` / `renderChatSegments`; every key not listed here becomes a template variable. */
export interface ApplyChatTemplateOptions {
  /**
   * Overrides of TOKENIZER_LIMITS for this render (the template budget: maxTemplateSteps,
   * maxTemplateOutput, maxTemplateDepth, maxTemplateLength; maxJsonDepth for the variables).
   */
  limits?: Partial<TokenizerLimits>;
  /** A ChatTemplate, the name of a built-in ('chatml'), or Jinja source. */
  template: ChatTemplate | string;
  /** Append the header that opens an assistant turn (what a model sees before it generates). Default false. */
  addGenerationPrompt?: boolean;
  /** Tools the model may call; the template decides how to show them (HF `tools`). Default null. */
  tools?: readonly ChatTool[] | null;
  /** Documents for retrieval-augmented templates (HF `documents`, e.g. `{ title, text }`). Default null. */
  documents?: readonly Record<string, unknown>[] | null;
  /** Any other template variable (`bos_token`, `eos_token`, `enable_thinking`, …); overrides the template's context. */
  [variable: string]: unknown;
}

/**
 * A piece of a rendered conversation: `template` text is the template's own markup (headers, end
 * markers); `content` text is a message's content as it appears in the render (`message` = its index).
 */
export interface ChatSegment {
  text: string;
  source: 'template' | 'content';
  /** For `content` segments: the index of the message the text came from. */
  message?: number;
}
