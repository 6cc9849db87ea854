/**
 * The one error type of `llm-chat serve`, with a stable `code`, and the HTTP status and OpenAI
 * error `type` it is answered with.
 *
 *   throw new ServeError('QUEUE_FULL', 'the request queue is full (64 waiting); retry later.');
 *   // → 429 {"error":{"message":"the request queue is full …","type":"rate_limit_error","param":null,"code":"queue_full"}}
 */
export type ServeErrorCode =
  | 'INVALID_REQUEST'
  | 'CONTEXT_LENGTH_EXCEEDED'
  | 'INVALID_API_KEY'
  | 'NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'QUEUE_FULL'
  | 'OVERLOADED'
  | 'CACHE_FULL'
  | 'CANCELLED'
  | 'INTERNAL';

const HTTP: Record<ServeErrorCode, { status: number; type: string }> = {
  INVALID_REQUEST: { status: 400, type: 'invalid_request_error' },
  CONTEXT_LENGTH_EXCEEDED: { status: 400, type: 'invalid_request_error' },
  INVALID_API_KEY: { status: 401, type: 'invalid_request_error' },
  NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  MODEL_NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  QUEUE_FULL: { status: 429, type: 'rate_limit_error' },
  OVERLOADED: { status: 503, type: 'server_error' },
  CACHE_FULL: { status: 503, type: 'server_error' },
  CANCELLED: { status: 499, type: 'invalid_request_error' },
  INTERNAL: { status: 500, type: 'server_error' },
};

export class ServeError extends Error {
  readonly code: ServeErrorCode;
  /** The request field at fault (OpenAI's `param`), e.g. 'messages[0].content'. */
  readonly param: string | null;
  constructor(code: ServeErrorCode, message: string, param: string | null = null) {
    super(message);
    this.name = 'ServeError';
    this.code = code;
    this.param = param;
  }

  get status(): number {
    return HTTP[this.code].status;
  }

  /** OpenAI's error body. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: HTTP[this.code].type, param: this.param, code: this.code.toLowerCase() } };
  }
}

/** Whether `e` is a cache-full error of any engine (ours, or @llm/infer's InferError CACHE_FULL). */
export const isCacheFull = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'CACHE_FULL';
