/**
 * The server's pino options (fastify's logger): JSON lines on a destination whose failures are
 * contained, request/session ids from the request context, secrets redacted, and errors serialised
 * without absolute paths or request text.
 */
import type { FastifyServerOptions } from "fastify";
import type { LogLevel } from "../config/index.js";
import type { RequestContext } from "./request-context.js";
import { sanitizeMessage } from "./sanitize.js";

/** Anywhere a credential could appear in a logged object. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-api-key"]',
  "authorization",
  "apiKey",
  "*.apiKey",
  "*.authorization",
];

export interface LoggerSetup {
  level: LogLevel;
  destination: { write(line: string): unknown };
  context: RequestContext;
}

interface LoggedError {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  stack?: unknown;
}

/**
 * Errors keep their type, code and status; message and stack lose absolute paths. A SyntaxError's
 * message is dropped: JSON.parse quotes the text it failed on, which may be a prompt.
 */
export interface SerializedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

export function serializeError(err: unknown): SerializedError {
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as LoggedError;
  const type = typeof e.name === "string" ? e.name : "Error";
  const message = typeof e.message === "string" && type !== "SyntaxError" ? sanitizeMessage(e.message).slice(0, 500) : "(omitted)";
  const stack = typeof e.stack === "string" ? sanitizeMessage(e.stack.split("\n").slice(1).join("\n")) : "";
  const out: SerializedError = { type, message, stack };
  if (e.code !== undefined) out.code = String(e.code);
  if (typeof e.statusCode === "number") out.statusCode = e.statusCode;
  return out;
}

export function createLoggerOptions(setup: LoggerSetup): NonNullable<FastifyServerOptions["logger"]> {
  return {
    level: setup.level,
    stream: setup.destination,
    mixin: setup.context.mixin,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: { err: serializeError, error: serializeError },
  };
}
