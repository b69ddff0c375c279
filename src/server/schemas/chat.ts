/**
 * Validation of POST /v1/chat/completions bodies. Hand-written rather than JSON-schema generated so
 * that every error names the field (`param`) and says what to fix, in OpenAI's error shape.
 * Unknown fields are ignored, as OpenAI-compatible servers do (clients send many optional ones).
 */
import { ApiError } from "../../errors.js";
import type { ChatMessage, ChatRole, SamplingParams } from "../../engine/types.js";

export interface ChatLimits {
  maxTokensLimit: number;
  defaultMaxTokens: number;
}

export interface ChatRequest {
  model: string | null;
  messages: ChatMessage[];
  params: SamplingParams;
  stream: boolean;
  includeUsage: boolean;
}

const ROLES: Record<string, ChatRole> = { system: "system", developer: "system", user: "user", assistant: "assistant" };
const UNSUPPORTED = ["tools", "functions", "tool_choice", "function_call", "logprobs", "top_logprobs", "response_format"] as const;

const bad = (param: string, message: string) => new ApiError("invalid_request", message, { param });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

function integer(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw bad(key, `${key} must be an integer from ${min} to ${max}, got ${describe(v) === "number" ? String(v) : describe(v)}`);
  if (v < min || v > max) throw bad(key, `${key} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

function number(body: Record<string, unknown>, key: string, check: (v: number) => boolean, range: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(key, `${key} must be a number ${range}, got ${describe(v)}`);
  if (!check(v)) throw bad(key, `${key} must be a number ${range}, got ${v}`);
  return v;
}

function content(v: unknown, param: string): string {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) throw bad(param, `${param} is required: give the message's content as a string`);
  if (Array.isArray(v)) {
    return v
      .map((part, j) => {
        if (isObject(part) && part.type === "text" && typeof part.text === "string") return part.text;
        throw bad(param, `${param}[${j}]: only text parts ({"type": "text", "text": "..."}) are supported`);
      })
      .join("");
  }
  throw bad(param, `${param} must be a string or an array of text parts, got ${describe(v)}`);
}

function messages(v: unknown): ChatMessage[] {
  if (v === undefined) throw bad("messages", "messages is required: an array of {role, content} objects");
  if (!Array.isArray(v)) throw bad("messages", `messages must be an array of {role, content} objects, got ${describe(v)}`);
  if (v.length === 0) throw bad("messages", "messages must contain at least one message");
  return v.map((m, i): ChatMessage => {
    const p = `messages[${i}]`;
    if (!isObject(m)) throw bad(p, `${p} must be an object with role and content, got ${describe(m)}`);
    const role = typeof m.role === "string" ? ROLES[m.role] : undefined;
    if (!role) throw bad(`${p}.role`, `${p}.role must be one of system, user, assistant (or developer)`);
    return { role, content: content(m.content, `${p}.content`) };
  });
}

function stops(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) throw bad("stop", "stop must be a string or an array of strings");
  if (list.length > 4) throw bad("stop", `stop takes at most 4 strings, got ${list.length}`);
  if (list.some((s) => s === "")) throw bad("stop", "stop strings must not be empty");
  return list as string[];
}

export function parseChatRequest(body: unknown, limits: ChatLimits): ChatRequest {
  if (!isObject(body)) throw bad("body", `the request body must be a JSON object, got ${describe(body)}`);
  for (const key of UNSUPPORTED) {
    if (body[key] !== undefined && body[key] !== null && body[key] !== false) throw bad(key, `${key} is not supported by this server; remove it`);
  }
  if (body.model !== undefined && typeof body.model !== "string") throw bad("model", `model must be a string, got ${describe(body.model)}`);

  const msgs = messages(body.messages);
  // Both are validated (a wrong value is never ignored); max_completion_tokens, OpenAI's current name, wins.
  const legacyMaxTokens = integer(body, "max_tokens", 1, limits.maxTokensLimit);
  const maxTokens = integer(body, "max_completion_tokens", 1, limits.maxTokensLimit) ?? legacyMaxTokens ?? Math.min(limits.defaultMaxTokens, limits.maxTokensLimit);
  const temperature = number(body, "temperature", (t) => t >= 0 && t <= 2, "from 0 to 2") ?? 1;
  const topP = number(body, "top_p", (t) => t > 0 && t <= 1, "greater than 0 and at most 1") ?? 1;
  const seed = integer(body, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const n = integer(body, "n", 1, Number.MAX_SAFE_INTEGER);
  if (n !== undefined && n !== 1) throw bad("n", `only n = 1 is supported (one choice per request), got ${n}`);

  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") throw bad("stream", `stream must be a boolean, got ${describe(body.stream)}`);
  const stream = body.stream === true;
  let includeUsage = false;
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (!stream) throw bad("stream_options", "stream_options is only allowed when stream is true");
    if (!isObject(body.stream_options)) throw bad("stream_options", "stream_options must be an object like {\"include_usage\": true}");
    const iu = body.stream_options.include_usage;
    if (iu !== undefined && typeof iu !== "boolean") throw bad("stream_options.include_usage", "stream_options.include_usage must be a boolean");
    includeUsage = iu === true;
  }

  return {
    model: typeof body.model === "string" ? body.model : null,
    messages: msgs,
    params: { maxTokens, temperature, topP, seed, stop: stops(body.stop) },
    stream,
    includeUsage,
  };
}
