/**
 * The chaos harness's HTTP client: one request per fresh connection (a killed server leaves no
 * pooled socket behind), always bounded by a timeout, never rejecting: a failure comes back as a
 * reply with `network` set. Streams are parsed with the load harness's SSE recorder.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { createStreamRecorder } from "../load/stream-recorder.js";

export interface ChatReply {
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** X-Cache-Hit, when the server sent it. */
  cacheHit: boolean | null;
  /** The assistant's text (whole body or assembled stream), when there was one. */
  text: string | null;
  /** error.code of an error body. */
  errorCode: string | null;
  /** The stream ended with an SSE error event or without [DONE]. */
  streamError: boolean;
  /** "timeout", "aborted", "econnreset"...: why no complete response arrived. */
  network: string | null;
  ms: number;
  /** Raw body, first 64 KB. */
  body: string;
  /** Body bytes received in all. */
  bytes: number;
}

export interface ChatOptions {
  stream?: boolean;
  timeoutMs?: number;
  /** Streams: every content piece as it arrives; `abort()` drops the connection (a client leaving). */
  onText?: (text: string, abort: () => void) => void;
  /** Streams: stop reading for this long after the first bytes (a slow reader). */
  pauseAfterFirstBytesMs?: number;
  /**
   * Streams: stop reading after the first bytes until the returned promise settles (a slow reader that
   * watches the connection meanwhile); it gets the client's local port.
   */
  pauseAfterFirstBytes?: (localPort: number, bytesSoFar: number) => Promise<void>;
  /** Aborting it drops the connection at once (network "cancelled"): the step was cancelled. */
  signal?: AbortSignal;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** Body pieces, written one after another. */
  parts?: Buffer[];
  /** Pause between two pieces (a slow-drip body). */
  gapMs?: number;
  timeoutMs?: number;
  /** Body bytes kept (default 2 KB). */
  keepBytes?: number;
  /** Aborting it drops the connection at once (network "cancelled"). */
  signal?: AbortSignal;
}

export interface RawReply {
  status: number | null;
  body: string;
  network: string | null;
  ms: number;
}

const KEEP = 2048;
const netKind = (err: NodeJS.ErrnoException) => (err.code ?? err.name ?? "error").toLowerCase();
const obj = (v: unknown): Record<string, unknown> | null => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

export function errorCodeOf(body: string): string | null {
  try {
    const code = obj(obj(JSON.parse(body))?.error)?.code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

function textOf(body: string): string | null {
  try {
    const choices = obj(JSON.parse(body))?.choices;
    const content = obj(obj(Array.isArray(choices) ? choices[0] : null)?.message)?.content;
    return typeof content === "string" ? content : null;
  } catch {
    return null;
  }
}

/** Sends raw bytes (any headers, any body pieces) and reads the status and body. */
export function sendRaw(baseUrl: string, r: RawRequest): Promise<RawReply> {
  const start = performance.now();
  const keep = r.keepBytes ?? KEEP;
  return new Promise((resolve) => {
    let done = false;
    let status: number | null = null;
    let body = "";
    const onCancel = () => finish("cancelled");
    const finish = (network: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      r.signal?.removeEventListener("abort", onCancel);
      req.destroy();
      resolve({ status, body: body.slice(0, keep), network, ms: performance.now() - start });
    };
    const req = http.request(new URL(r.path, baseUrl), { method: r.method ?? "POST", headers: r.headers ?? {}, agent: false });
    const timer = setTimeout(() => finish("timeout"), r.timeoutMs ?? 10_000);
    if (r.signal?.aborted) queueMicrotask(onCancel);
    else r.signal?.addEventListener("abort", onCancel, { once: true });
    req.on("response", (res) => {
      status = res.statusCode ?? null;
      res.on("data", (b: Buffer) => {
        if (body.length < keep) body += b.toString("utf8");
      });
      res.on("end", () => finish(null));
      res.on("error", (e) => finish(netKind(e)));
    });
    req.on("error", (e) => finish(status !== null ? null : netKind(e)));
    const parts = r.parts ?? [];
    const write = async () => {
      for (const [i, part] of parts.entries()) {
        if (done || req.destroyed) return;
        if (i > 0 && r.gapMs) await new Promise((res) => setTimeout(res, r.gapMs));
        if (done || req.destroyed) return;
        req.write(part);
      }
      if (!done && !req.destroyed) req.end();
    };
    void write();
  });
}

/** POST /v1/chat/completions with `body` (its `stream` is set from opts). */
export function postChat(baseUrl: string, body: Record<string, unknown>, opts: ChatOptions = {}): Promise<ChatReply> {
  const stream = opts.stream === true;
  const payload = Buffer.from(JSON.stringify({ ...body, stream }));
  const start = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let status: number | null = null;
    let cacheHit: boolean | null = null;
    let raw = "";
    let bytes = 0;
    const recorder = createStreamRecorder(start);
    const onCancel = () => finish("cancelled");
    const finish = (network: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onCancel);
      req.destroy();
      const ok = status === 200;
      const streamed = stream && ok ? recorder.end() : null;
      resolve({
        status,
        cacheHit,
        text: streamed ? streamed.answer.text : ok ? textOf(raw) : null,
        errorCode: ok ? null : errorCodeOf(raw),
        streamError: streamed !== null && (streamed.error !== null || network !== null),
        network,
        ms: performance.now() - start,
        body: raw.slice(0, 1 << 16),
        bytes,
      });
    };
    const req = http.request(new URL("/v1/chat/completions", baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": payload.length },
      agent: false,
    });
    const timer = setTimeout(() => finish("timeout"), opts.timeoutMs ?? 15_000);
    if (opts.signal?.aborted) queueMicrotask(onCancel);
    else opts.signal?.addEventListener("abort", onCancel, { once: true });
    const abort = () => finish("aborted");
    req.on("response", (res) => {
      status = res.statusCode ?? null;
      const h = res.headers["x-cache-hit"];
      cacheHit = h === "true" ? true : h === "false" ? false : null;
      let paused = false;
      let seen = 0;
      res.on("data", (b: Buffer) => {
        bytes += b.length;
        if (raw.length < 1 << 20) raw += b.toString("utf8");
        if (stream && status === 200) {
          recorder.push(b, performance.now());
        }
        if (stream && status === 200 && opts.onText) {
          // The recorder has the text so far; hand out what is new.
          const so = textSoFar(raw);
          if (so.length > seen) {
            const piece = so.slice(seen);
            seen = so.length;
            opts.onText?.(piece, abort);
          }
        }
        if (!paused && (opts.pauseAfterFirstBytesMs || opts.pauseAfterFirstBytes)) {
          paused = true;
          res.pause();
          const until = opts.pauseAfterFirstBytes
            ? opts.pauseAfterFirstBytes(req.socket?.localPort ?? 0, bytes).catch(() => undefined)
            : new Promise<void>((r) => setTimeout(r, opts.pauseAfterFirstBytesMs));
          void until.then(() => {
            if (!done) res.resume();
          });
        }
      });
      res.on("end", () => finish(null));
      res.on("error", (e) => finish(netKind(e)));
      res.on("close", () => finish(res.complete ? null : "closed-early"));
    });
    req.on("error", (e) => finish(netKind(e)));
    req.end(payload);
  });
}

/** The content of every complete `data:` chunk in an SSE body so far, concatenated. */
function textSoFar(raw: string): string {
  let text = "";
  for (const line of raw.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    try {
      const choices = obj(JSON.parse(line.slice(6)))?.choices;
      const content = obj(obj(Array.isArray(choices) ? choices[0] : null)?.delta)?.content;
      if (typeof content === "string") text += content;
    } catch {
      // a line cut in the middle: complete on a later call
    }
  }
  return text;
}

/** GET `path` and parse the JSON body; json is null when there is none. */
export async function getJson(baseUrl: string, path: string, timeoutMs = 5000): Promise<{ status: number | null; json: Record<string, unknown> | null }> {
  const r = await sendRaw(baseUrl, { method: "GET", path, timeoutMs, keepBytes: 1 << 20 });
  let json: Record<string, unknown> | null = null;
  try {
    json = obj(JSON.parse(r.body));
  } catch {
    json = null;
  }
  return { status: r.status, json };
}
