/**
 * What the cases against the child server share: the server (replaced on restart), its cache
 * directory, and the helpers every case uses: request bodies, cache keys, reference answers and
 * the check that normal service is back.
 *
 * Reference answers are "the same request with the cache off": the server runs with
 * GAUNTLET_DEBUG_ENGINE_FAULT=tagged, so a request whose last message starts with
 * `[chaos:none:<nonce>] ` has a cache key never seen before (always generated, X-Cache-Hit false)
 * while the engine sees exactly the untagged messages.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { cacheKey } from "../../cache/cache-key.js";
import { decodeRecord } from "../../cache/record-codec.js";
import type { CachedResponse } from "../../cache/record-codec.js";
import { parseChatRequest } from "../../server/schemas/chat.js";
import type { CaseRecorder } from "./case-recorder.js";
import type { ChaosServer, ChaosServerConfig } from "./child-server.js";
import { getJson, postChat } from "./http-client.js";
import type { ChatOptions, ChatReply } from "./http-client.js";

export interface MainContext {
  server: ChaosServer;
  /** Starts the server again (after a kill or a stop) on the same cache directory; sets `server`. */
  restart(): Promise<ChaosServer>;
  config: ChaosServerConfig;
  recordDir: string;
  fingerprint: string;
  /** The cache directory is a small tmpfs of this many bytes (a real full disk can be made), or null. */
  tmpfsBytes: number | null;
  /** The server's --timeout-ms. */
  requestTimeoutMs: number;
  quick: boolean;
  /** Unique per run, so prompts never collide with an earlier run's records. */
  runTag: string;
  next(): number;
  references: Map<string, CachedResponse>;
  random: () => number;
  /** The running step's cancellation (set by the group before each step): requests and waits end when it aborts. */
  signal: AbortSignal;
}

export type ChatBody = Record<string, unknown> & { messages: { role: string; content: string }[] };

export function ask(ctx: Pick<MainContext, "runTag">, prompt: string, maxTokens = 8, tag?: string): ChatBody {
  const content = `${tag ? `[chaos:${tag}] ` : ""}${prompt} (${ctx.runTag})`;
  return { messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0 };
}

/** The response-cache key the server computes for this body. */
export function keyOf(ctx: Pick<MainContext, "fingerprint">, body: ChatBody): string {
  const parsed = parseChatRequest(body, { maxTokensLimit: 1 << 20, defaultMaxTokens: 256 });
  return cacheKey(ctx.fingerprint, parsed.messages, parsed.params);
}

export const recordPath = (ctx: Pick<MainContext, "recordDir" | "fingerprint">, body: ChatBody) => join(ctx.recordDir, `${keyOf(ctx, body)}.rec`);

/** `body` with its last message tagged, e.g. for an engine fault. */
export function tagged(body: ChatBody, tag: string): ChatBody {
  const messages = body.messages.map((m, i) => (i === body.messages.length - 1 ? { ...m, content: `[chaos:${tag}] ${m.content}` } : m));
  return { ...body, messages };
}

/** Strips a leading chaos tag, so a tagged request and its untagged twin share one reference. */
function untagged(body: ChatBody): ChatBody {
  const messages = body.messages.map((m, i) => (i === body.messages.length - 1 ? { ...m, content: m.content.replace(/^\[chaos:[^\]\s]+\] /, "") } : m));
  return { ...body, messages };
}

/** The answer the engine gives this request with the cache out of the way; throws when it cannot be had. */
export async function referenceValue(ctx: MainContext, body: ChatBody): Promise<CachedResponse> {
  const plain = untagged(body);
  const id = JSON.stringify([plain.messages, plain.max_tokens, plain.temperature]);
  const known = ctx.references.get(id);
  if (known !== undefined) return known;
  const reply = await postChat(ctx.server.baseUrl, tagged(plain, `none:${ctx.runTag}-${ctx.next()}`), { timeoutMs: 20_000, signal: ctx.signal });
  const value = reply.status === 200 && reply.cacheHit === false ? cachedValue(reply.body) : null;
  if (value === null) {
    throw new Error(`the reference answer could not be computed (status ${reply.status ?? reply.network}, x-cache-hit ${reply.cacheHit})`);
  }
  ctx.references.set(id, value);
  return value;
}

export async function reference(ctx: MainContext, body: ChatBody): Promise<string> {
  return (await referenceValue(ctx, body)).text;
}

/** A chat.completion body as the cache would store it. */
function cachedValue(raw: string): CachedResponse | null {
  try {
    const b = JSON.parse(raw) as { choices?: { message?: { content?: unknown }; finish_reason?: unknown }[]; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
    const c = b.choices?.[0];
    const text = c?.message?.content;
    const finish = c?.finish_reason;
    const p = b.usage?.prompt_tokens;
    const g = b.usage?.completion_tokens;
    if (typeof text !== "string" || (finish !== "stop" && finish !== "length") || typeof p !== "number" || typeof g !== "number") return null;
    return { text, finishReason: finish, promptTokens: p, completionTokens: g };
  } catch {
    return null;
  }
}

export function chat(ctx: MainContext, body: ChatBody, opts: ChatOptions = {}): Promise<ChatReply> {
  return postChat(ctx.server.baseUrl, body, { timeoutMs: 20_000, signal: ctx.signal, ...opts });
}

const short = (s: string | null) => (s === null ? "null" : JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s));

/** Counts a reply that should be a 200 with `expected` as text: ok, failed or wrong. */
export function judgeAnswer(rec: CaseRecorder, reply: ChatReply, expected: string, what: string): boolean {
  if (reply.status !== 200 || reply.text === null || reply.streamError) {
    const kind = reply.status === null ? (reply.network ?? "no-response") : reply.streamError ? "stream-error" : `status-${reply.status}`;
    rec.request("failed", reply.ms, kind);
    return rec.check(false, `${what}: answered 200 with a complete answer`, `got ${kind}${reply.errorCode ? ` (${reply.errorCode})` : ""}`);
  }
  if (reply.text !== expected) {
    rec.request("wrong", reply.ms);
    return rec.check(false, `${what}: the answer equals the reference (same request, cache off)`, `got ${short(reply.text)}, reference ${short(expected)}`);
  }
  rec.request("ok", reply.ms);
  return rec.check(true, `${what}: 200 with the reference answer${reply.cacheHit === null ? "" : ` (x-cache-hit ${reply.cacheHit})`}`);
}

/** Counts a reply that should be a clean error with one of `statuses` and an OpenAI error body. */
export function judgeError(rec: CaseRecorder, reply: ChatReply | { status: number | null; errorCode: string | null; ms: number; network: string | null }, statuses: number[], what: string): boolean {
  const clean = reply.status !== null && statuses.includes(reply.status) && reply.errorCode !== null;
  rec.request(clean ? "ok" : "failed", reply.ms, clean ? undefined : reply.status === null ? (reply.network ?? "no-response") : `status-${reply.status}`);
  const seen = `got ${reply.status ?? reply.network}${reply.errorCode ? ` ${reply.errorCode}` : ""}`;
  return rec.check(clean, `${what}: a clean ${statuses.join("/")} with an error body`, seen, seen);
}

/** Polls until `probe` is true; the elapsed ms, or null after `timeoutMs` (or once `signal` aborts). */
export async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 25, signal?: AbortSignal): Promise<number | null> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start > timeoutMs || signal?.aborted) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits (bounded) until the record of `body` is on disk, valid, with `text` when given: records are written
 * behind the answer (src/server/caching-inference.ts). The elapsed ms, or null.
 */
export async function recordStored(ctx: MainContext, body: ChatBody, text?: string, timeoutMs = 5000): Promise<number | null> {
  const key = keyOf(ctx, body);
  const path = join(ctx.recordDir, `${key}.rec`);
  return waitUntil(
    async () => {
      try {
        const d = decodeRecord(await readFile(path), { fingerprint: ctx.fingerprint, maxBytes: 8 << 20, key });
        return d.ok && (text === undefined || d.record.value.text === text);
      } catch {
        return false;
      }
    },
    timeoutMs,
    20,
    ctx.signal,
  );
}

export async function health(ctx: MainContext): Promise<Record<string, unknown> | null> {
  return (await getJson(ctx.server.baseUrl, "/health", 3000)).json;
}

export async function inFlight(ctx: MainContext): Promise<number | null> {
  const m = (await health(ctx))?.metrics as { requestsInFlight?: unknown } | undefined;
  return typeof m?.requestsInFlight === "number" ? m.requestsInFlight : null;
}

/**
 * Normal service is back: nothing left in flight, and a new request (never asked before, so the
 * engine must run) is answered 200 with its reference. Records the recovery time from `since`.
 */
export async function verifyService(ctx: MainContext, rec: CaseRecorder, since: number, timeoutMs = 15_000): Promise<boolean> {
  const idle = await waitUntil(async () => (await inFlight(ctx)) === 0, timeoutMs, 25, ctx.signal);
  if (!rec.check(idle !== null, "nothing left in flight afterwards (/health requestsInFlight back to 0)", idle === null ? `still ${await inFlight(ctx)} after ${timeoutMs} ms` : "")) return false;
  const body = ask(ctx, `service probe ${ctx.next()}`);
  const reply = await chat(ctx, body);
  const at = performance.now();
  const ok = judgeAnswer(rec, reply, await reference(ctx, body), "a new request afterwards");
  if (ok) rec.recovered(at - since);
  return ok;
}
