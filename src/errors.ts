/**
 * The one error registry. Every error a client can see has a stable code, an HTTP status and an
 * OpenAI error type; one handler (src/server/plugins/error-handler.ts) maps them to
 * `{ error: { message, type, param, code } }`.
 */

export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "timeout_error";

interface ErrorSpec {
  status: number;
  type: OpenAiErrorType;
}

export const ERROR_CODES = {
  invalid_json: { status: 400, type: "invalid_request_error" },
  invalid_request: { status: 400, type: "invalid_request_error" },
  context_length_exceeded: { status: 400, type: "invalid_request_error" },
  unsupported_media_type: { status: 415, type: "invalid_request_error" },
  payload_too_large: { status: 413, type: "invalid_request_error" },
  invalid_api_key: { status: 401, type: "authentication_error" },
  not_found: { status: 404, type: "not_found_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  queue_full: { status: 503, type: "rate_limit_error" },
  memory_pressure: { status: 503, type: "server_error" },
  model_not_ready: { status: 503, type: "server_error" },
  shutting_down: { status: 503, type: "server_error" },
  request_timeout: { status: 504, type: "timeout_error" },
  engine_error: { status: 500, type: "server_error" },
  internal_error: { status: 500, type: "server_error" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ApiErrorOptions {
  param?: string | null;
  /** Seconds, sent as Retry-After (503s). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** An error meant for the client: its message is safe to show (no paths, no prompt text). */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.type = ERROR_CODES[code].type;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toBody(): { error: { message: string; type: OpenAiErrorType; param: string | null; code: ErrorCode } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Thrown by an engine when a failure is transient and the request may be retried. */
export class TransientEngineError extends Error {
  override readonly name = "TransientEngineError";
}

/** Thrown when the prompt does not fit in the context. */
export class ContextOverflowError extends Error {
  override readonly name = "ContextOverflowError";
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
  ) {
    super(`the prompt takes ${promptTokens} tokens but the context holds ${contextSize}`);
  }
}

/** A model file that cannot be used; the message says why in user terms (no absolute path). */
export class ModelLoadError extends Error {
  override readonly name = "ModelLoadError";
}
