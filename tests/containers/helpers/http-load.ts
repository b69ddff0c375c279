/**
 * A bounded load generator for the container tests: sends chat completions on an open-loop schedule
 * (`ratePerSec`) with at most `maxInFlight` outstanding, each bounded by `timeoutMs`, and counts outcomes.
 * A request that outlives `timeoutMs` counts as hung; a stream counts as complete only when it ends in [DONE].
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface LoadRequest {
  body: Record<string, unknown>;
  stream: boolean;
}

export interface LoadOptions {
  url: string;
  /** How many requests to send at most. */
  requests: number;
  ratePerSec: number;
  maxInFlight: number;
  /** Per-request bound; past it the request is aborted and counted as hung. */
  timeoutMs: number;
  request: (i: number) => LoadRequest;
  /** Aborting it stops sending new requests (those in flight run to their end or their bound). */
  stop?: AbortSignal;
  /** Called after each response has been read and counted (to kill or stop mid-load). */
  onResponse?: (status: number, summary: LoadSummary, detail: ResponseDetail) => void;
}

export interface ResponseDetail {
  /** The request's index (the argument of `request`). */
  index: number;
  request: LoadRequest;
  /** The whole response body. */
  body: string;
  /** The X-Cache-Hit header, when sent. */
  cacheHit: string | null;
}

export interface LoadSummary {
  sent: number;
  /** Responses by HTTP status. */
  byStatus: Record<number, number>;
  /** Error responses by their OpenAI error code (`error.code` of the body). */
  byErrorCode: Record<string, number>;
  ok: number;
  /** Aborted at timeoutMs. */
  hung: number;
  /** Refused, reset or closed connections. */
  networkErrors: number;
  /** 200 streams that did not end with [DONE] (an SSE error event or a cut stream). */
  incompleteStreams: number;
  /** Error codes seen in SSE error events. */
  streamErrorCodes: string[];
  /** The longest request, in ms. */
  maxMs: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const summary: LoadSummary = { sent: 0, byStatus: {}, byErrorCode: {}, ok: 0, hung: 0, networkErrors: 0, incompleteStreams: 0, streamErrorCodes: [], maxMs: 0 };
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const interval = 1000 / opts.ratePerSec;

  for (let i = 0; i < opts.requests && !opts.stop?.aborted; i++) {
    const due = start + i * interval - performance.now();
    if (due > 0) await sleep(due);
    while (inFlight.size >= opts.maxInFlight) await Promise.race(inFlight);
    if (opts.stop?.aborted) break;
    const p = sendOne(opts, i, opts.request(i), summary).finally(() => inFlight.delete(p));
    inFlight.add(p);
    summary.sent++;
  }
  await Promise.all(inFlight);
  return summary;
}

async function sendOne(opts: LoadOptions, index: number, req: LoadRequest, summary: LoadSummary): Promise<void> {
  const t0 = performance.now();
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await fetch(`${opts.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...req.body, stream: req.stream }),
      signal,
    });
    const text = await res.text();
    summary.byStatus[res.status] = (summary.byStatus[res.status] ?? 0) + 1;
    if (res.status !== 200) {
      const code = errorCode(text);
      summary.byErrorCode[code] = (summary.byErrorCode[code] ?? 0) + 1;
    } else {
      if (req.stream && !text.trimEnd().endsWith("data: [DONE]")) {
        summary.incompleteStreams++;
        summary.streamErrorCodes.push(sseErrorCode(text));
      } else {
        summary.ok++;
      }
    }
    opts.onResponse?.(res.status, summary, { index, request: req, body: text, cacheHit: res.headers.get("x-cache-hit") });
  } catch {
    if (signal.aborted) summary.hung++;
    else summary.networkErrors++;
  } finally {
    summary.maxMs = Math.max(summary.maxMs, performance.now() - t0);
  }
}

function errorCode(body: string): string {
  try {
    return String((JSON.parse(body) as { error?: { code?: unknown } }).error?.code);
  } catch {
    return "not-json";
  }
}

/** The code of the SSE error event in a stream, or why there is none. */
function sseErrorCode(text: string): string {
  const data = /event: error\ndata: (.*)/.exec(text)?.[1];
  return data === undefined ? "cut-without-error-event" : errorCode(data);
}

/** Distinct, valid chat requests: distinct prompts so a response cache (if any) keeps taking new entries. */
export function chatRequest(i: number, opts: { maxTokens?: number; stream?: boolean; temperature?: number } = {}): LoadRequest {
  return {
    stream: opts.stream ?? i % 3 === 0,
    body: {
      model: "gauntlet-tiny",
      messages: [{ role: "user", content: `request ${i}: tell me about the number ${(i * 7919) % 10007}` }],
      max_tokens: opts.maxTokens ?? 32,
      temperature: opts.temperature ?? 0,
    },
  };
}
