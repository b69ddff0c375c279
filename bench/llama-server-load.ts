/**
 * The benchmark's own HTTP client for OpenAI-compatible servers (ours and llama.cpp's), so both are
 * measured by the same code. Not autocannon: llama-server closes a keep-alive connection after 100
 * responses, and autocannon then times the re-sent request from its stale first start. Here every
 * request is timed from the moment it is written (monotonic clock), each connection is one
 * keep-alive socket that is simply reopened when the server closes it, and every closed-loop run is
 * checked with Little's law (mean latency ~= connections / throughput).
 *
 * Traffic goes to 127.0.0.1 only, bounded in requests and time.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { exactPercentile } from "../src/harness/stats/exact.js";
import { createSseParser } from "../src/server/sse.js";

export interface LoadTarget {
  /** Base URL, http://127.0.0.1:<port> */
  url: string;
  model: string;
  maxTokens: number;
}

export interface Reply {
  status: number;
  /** Request written -> last byte. */
  ms: number;
  /** Request written -> first SSE chunk with content (streams only). */
  ttftMs: number | null;
  completionTokens: number | null;
}

export interface LoadRun {
  connections: number;
  requests: number;
  errors: number;
  elapsedMs: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number };
  /** Mean latency / (connections / throughput): ~1 in a sound closed-loop run. */
  littlesLawRatio: number;
  meanCompletionTokens: number;
}

function assertLocal(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") throw new Error(`benchmarks only send traffic to 127.0.0.1, not ${host}`);
}

/**
 * One chat completion over `agent`; resolves with timings (never rejects on HTTP errors). A request
 * that fails on a reused keep-alive socket before any response (the server closed it in between, as
 * llama-server does after a stream) is sent again once on a new connection and timed from then.
 */
export async function sendChat(target: LoadTarget, agent: Agent, content: string, stream: boolean): Promise<Reply> {
  const first = await sendOnce(target, agent, content, stream);
  if (!first.staleSocket) return first.reply;
  return (await sendOnce(target, agent, content, stream)).reply;
}

function sendOnce(target: LoadTarget, agent: Agent, content: string, stream: boolean): Promise<{ reply: Reply; staleSocket: boolean }> {
  assertLocal(target.url);
  const body = JSON.stringify({
    model: target.model,
    messages: [{ role: "user", content }],
    max_tokens: target.maxTokens,
    temperature: 0,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  });
  const u = new URL("/v1/chat/completions", target.url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let ttft: number | null = null;
    let completionTokens: number | null = null;
    let gotResponse = false;
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        const parts: Buffer[] = [];
        const parser = createSseParser((m) => {
          if (m.data === "[DONE]") return;
          try {
            const c = JSON.parse(m.data) as { choices?: Array<{ delta?: { content?: string | null } }>; usage?: { completion_tokens?: number } | null };
            if (ttft === null && typeof c.choices?.[0]?.delta?.content === "string" && c.choices[0].delta.content !== "") ttft = performance.now() - t0;
            if (c.usage?.completion_tokens !== undefined) completionTokens = c.usage.completion_tokens;
          } catch {
            // not JSON: ignore (counted as a bad reply by the status)
          }
        });
        res.on("data", (b: Buffer) => (stream ? parser.push(b) : parts.push(b)));
        res.on("end", () => {
          const ms = performance.now() - t0;
          if (!stream) {
            try {
              completionTokens = (JSON.parse(Buffer.concat(parts).toString("utf8")) as { usage?: { completion_tokens?: number } }).usage?.completion_tokens ?? null;
            } catch {
              completionTokens = null;
            }
          }
          resolve({ reply: { status: res.statusCode ?? 0, ms, ttftMs: ttft, completionTokens }, staleSocket: false });
        });
        res.on("error", () => resolve({ reply: { status: 0, ms: performance.now() - t0, ttftMs: null, completionTokens: null }, staleSocket: false }));
      },
    );
    req.on("error", () => {
      resolve({ reply: { status: 0, ms: performance.now() - t0, ttftMs: null, completionTokens: null }, staleSocket: req.reusedSocket && !gotResponse });
    });
    req.on("response", () => {
      gotResponse = true;
    });
    req.end(body);
  });
}

export interface ClosedLoopOptions {
  connections: number;
  /** Stop after this many completed requests in total ... */
  maxRequests: number;
  /** ... or after this long, whichever comes first. */
  maxMs: number;
  stream?: boolean;
  /** Unique prompt per request. */
  prompt: (i: number) => string;
}

const summarize = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
  return { p50: exactPercentile(s, 50) ?? 0, p90: exactPercentile(s, 90) ?? 0, p99: exactPercentile(s, 99) ?? 0, mean };
};

/** `connections` workers, one keep-alive socket each, each sending its next request when the last one ends. */
export async function runClosedLoop(target: LoadTarget, opts: ClosedLoopOptions): Promise<LoadRun> {
  const latencies: number[] = [];
  const tokens: number[] = [];
  let errors = 0;
  let issued = 0;
  const start = performance.now();
  const deadline = start + opts.maxMs;
  const worker = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (issued < opts.maxRequests && performance.now() < deadline) {
        const i = issued++;
        const r = await sendChat(target, agent, opts.prompt(i), opts.stream ?? false);
        if (r.status === 200) {
          latencies.push(r.ms);
          if (r.completionTokens !== null) tokens.push(r.completionTokens);
        } else errors++;
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const elapsedMs = performance.now() - start;
  const requestsPerSecond = (latencies.length * 1000) / elapsedMs;
  const latencyMs = summarize(latencies);
  const predictedMean = requestsPerSecond > 0 ? (opts.connections * 1000) / requestsPerSecond : 0;
  return {
    connections: opts.connections,
    requests: latencies.length,
    errors,
    elapsedMs,
    requestsPerSecond,
    latencyMs,
    littlesLawRatio: predictedMean > 0 ? latencyMs.mean / predictedMean : 0,
    meanCompletionTokens: tokens.length ? tokens.reduce((a, b) => a + b, 0) / tokens.length : 0,
  };
}

/** Sequential streaming requests (one connection): time to the first content chunk. */
export async function measureTtft(target: LoadTarget, n: number, prompt: (i: number) => string): Promise<{ n: number; ttftMs: ReturnType<typeof summarize>; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ttfts: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < n; i++) {
      const r = await sendChat(target, agent, prompt(i), true);
      if (r.status === 200 && r.ttftMs !== null) ttfts.push(r.ttftMs);
      else errors++;
    }
  } finally {
    agent.destroy();
  }
  return { n: ttfts.length, ttftMs: summarize(ttfts), errors };
}
