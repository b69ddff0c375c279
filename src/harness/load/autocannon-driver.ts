/**
 * Non-streaming closed-loop load through autocannon's programmatic API, when autocannon is
 * installed (it is loaded lazily; without it the runner uses our own client and says so).
 * autocannon cannot tell which answer belongs to which request, so each request carries its plan in
 * autocannon's per-request context: setupRequest stamps it, onResponse checks and times it.
 * autocannon 9 times a request re-sent after a reconnect from its stale start; the runner's
 * Little's law check and the client/server reconciliation catch that.
 */
import type { PlannedRequest } from "../scenarios/plan.js";
import { parseCompletion } from "./chat-client.js";
import type { Clock } from "./clock.js";
import type { RequestRecord } from "./types.js";

type Context = Record<string, unknown>;

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: Context) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Context, headers?: unknown) => void;
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  amount?: number;
  duration?: number;
  overallRate?: number;
  /** Seconds. */
  timeout: number;
  requests: AutocannonRequest[];
}

/** The fields of autocannon's result this driver reads. */
export interface AutocannonResult {
  latency: { mean: number };
  requests: { average: number; sent?: number };
  errors: number;
  timeouts: number;
}

export type AutocannonFn = (opts: AutocannonOptions, done: (err: Error | null, result: AutocannonResult) => void) => unknown;

/** autocannon's function, or null when the package is not installed. */
export async function loadAutocannon(): Promise<AutocannonFn | null> {
  const name = "autocannon";
  try {
    const mod = (await import(name)) as { default?: unknown };
    return typeof mod.default === "function" ? (mod.default as AutocannonFn) : null;
  } catch {
    return null;
  }
}

function cacheHeader(headers: unknown): boolean | null {
  const v = typeof headers === "object" && headers !== null ? (headers as Record<string, unknown>)["x-cache-hit"] : undefined;
  return v === "true" ? true : v === "false" ? false : null;
}

export interface AutocannonRunOptions {
  baseUrl: string;
  /** Extra request headers (e.g. authorization for a --target). */
  headers?: Record<string, string>;
  connections: number;
  count: number | null;
  durationMs: number | null;
  /** Requests per second over all connections (autocannon's overallRate); null for none. */
  rate: number | null;
  timeoutMs: number;
  clock: Clock;
  plan: (index: number) => PlannedRequest;
  onRecord: (rec: RequestRecord) => void;
}

export interface AutocannonRunSummary {
  sent: number;
  /** autocannon's own figures, for the Little's law cross-check. */
  reportedMeanLatencyMs: number | null;
  reportedRps: number | null;
}

export function runAutocannon(ac: AutocannonFn, o: AutocannonRunOptions): Promise<AutocannonRunSummary> {
  let next = 0;
  let answered = 0;
  const request: AutocannonRequest = {
    method: "POST",
    path: "/v1/chat/completions",
    headers: { ...o.headers, "content-type": "application/json" },
    setupRequest(req, context) {
      const p = o.plan(next++);
      context.plan = p;
      context.sentAt = o.clock.now();
      return { ...req, body: JSON.stringify(p.body) };
    },
    onResponse(status, body, context, headers) {
      const p = context.plan as PlannedRequest;
      const sentAt = context.sentAt as number;
      const parsed = status === 200 ? parseCompletion(body) : null;
      answered++;
      o.onRecord({
        index: p.index, key: p.key, sentAt, scheduledAt: null, elapsedMs: o.clock.now() - sentAt, ttftMs: null, itlMs: [],
        status, error: status !== 200 ? `http-${status}` : parsed ? null : "bad-response",
        answer: parsed?.answer ?? null, server: parsed?.server ?? null, cacheHit: cacheHeader(headers),
      });
    },
  };
  return new Promise((resolve, reject) => {
    ac(
      {
        url: o.baseUrl,
        connections: o.connections,
        ...(o.count !== null ? { amount: o.count } : { duration: (o.durationMs ?? 1000) / 1000 }),
        ...(o.rate !== null ? { overallRate: o.rate } : {}),
        timeout: Math.max(1, Math.ceil(o.timeoutMs / 1000)),
        requests: [request],
      },
      (err, result) => {
        if (err) return reject(err);
        // Requests that never got a response have no onResponse call; autocannon's `errors` includes its `timeouts`.
        const lost = Math.max(0, result.errors);
        for (let k = 0; k < lost; k++) {
          o.onRecord({ index: -1, key: "", sentAt: o.clock.now(), scheduledAt: null, elapsedMs: 0, ttftMs: null, itlMs: [], status: null, error: k < result.timeouts ? "timeout" : "network-error", answer: null, server: null, cacheHit: null });
        }
        resolve({ sent: answered + lost, reportedMeanLatencyMs: result.latency.mean ?? null, reportedRps: result.requests.average ?? null });
      },
    );
  });
}
