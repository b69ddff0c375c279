/**
 * Our own chat client (node:http with a keep-alive agent): one request, JSON or SSE, timed on the
 * run's monotonic clock. Streams go through createStreamRecorder (TTFT, ITL, usage); plain answers
 * are parsed here. Never rejects: failures come back as a record with an error kind.
 */
import http from "node:http";
import type { PlannedRequest } from "../scenarios/plan.js";
import { createStreamRecorder, num, obj, serverTimings } from "./stream-recorder.js";
import type { Answer, RequestRecord, ServerTimings } from "./types.js";

export interface ChatClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  agent: http.Agent;
  timeoutMs: number;
  /** Monotonic clock of the run (ms). */
  now: () => number;
  headers?: Record<string, string>;
}

function networkKind(err: NodeJS.ErrnoException): string {
  if (err.code === "ECONNRESET" || err.code === "EPIPE") return "connection-reset";
  if (err.code === "ECONNREFUSED") return "connection-refused";
  return `network-${(err.code ?? "error").toLowerCase()}`;
}

/** Reads a non-streamed chat.completion body; null when it is not one. */
export function parseCompletion(text: string): { answer: Answer; server: ServerTimings | null } | null {
  let body: Record<string, unknown> | null;
  try {
    body = obj(JSON.parse(text));
  } catch {
    return null;
  }
  const choice = obj((body?.choices as unknown[] | undefined)?.[0]);
  const message = obj(choice?.message);
  if (!body || !message || typeof message.content !== "string") return null;
  const usage = obj(body.usage);
  return {
    answer: {
      text: message.content,
      finishReason: typeof choice?.finish_reason === "string" ? choice.finish_reason : null,
      completionTokens: num(usage?.completion_tokens),
      promptTokens: num(usage?.prompt_tokens),
    },
    server: serverTimings(body.timings),
  };
}

export function sendChat(opts: ChatClientOptions, plan: PlannedRequest, scheduledAt: number | null = null): Promise<RequestRecord> {
  const payload = JSON.stringify(plan.body);
  const url = new URL("/v1/chat/completions", opts.baseUrl);
  return new Promise((resolve) => {
    const rec: RequestRecord = {
      index: plan.index, key: plan.key, sentAt: 0, scheduledAt, elapsedMs: 0, ttftMs: null, itlMs: [],
      status: null, error: null, answer: null, server: null, cacheHit: null,
    };
    let settled = false;
    let timedOut = false;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      rec.elapsedMs = opts.now() - rec.sentAt;
      rec.error = timedOut ? "timeout" : error;
      resolve(rec);
    };
    const req = http.request(url, {
      method: "POST",
      agent: opts.agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...opts.headers },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error("client timeout"));
    }, opts.timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => finish(networkKind(err)));
    req.on("response", (res) => {
      rec.status = res.statusCode ?? null;
      const hit = res.headers["x-cache-hit"];
      rec.cacheHit = hit === "true" ? true : hit === "false" ? false : null;
      res.on("error", (err: NodeJS.ErrnoException) => finish(networkKind(err)));
      res.on("close", () => finish("connection-reset"));
      if (rec.status !== 200) {
        res.resume();
        res.on("end", () => finish(`http-${rec.status}`));
        return;
      }
      if ((res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        const recorder = createStreamRecorder(rec.sentAt);
        res.on("data", (c: Buffer) => recorder.push(c, opts.now()));
        res.on("end", () => {
          const out = recorder.end();
          Object.assign(rec, { answer: out.answer, server: out.server, ttftMs: out.ttftMs, itlMs: out.itlMs });
          finish(out.error);
        });
        return;
      }
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => {
        const parsed = parseCompletion(Buffer.concat(parts).toString("utf8"));
        if (parsed) Object.assign(rec, parsed);
        finish(parsed ? null : "bad-response");
      });
    });
    rec.sentAt = opts.now();
    req.end(payload);
  });
}
