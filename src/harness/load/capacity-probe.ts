/**
 * How fast can this harness drive requests at all? Runs our own client in a closed loop against the
 * trivial endpoint: requests per second at `connections`, and the per-request overhead (latency at
 * one connection, i.e. client plus loopback plus a server that does nothing).
 */
import http from "node:http";
import type { PlannedRequest } from "../scenarios/plan.js";
import { LatencyHistogram } from "../stats/histogram.js";
import type { HistogramSummary } from "../stats/histogram.js";
import { sendChat } from "./chat-client.js";
import type { Clock } from "./clock.js";
import { runClosedLoop } from "./drivers.js";

export interface CapacityOptions {
  baseUrl: string;
  stream: boolean;
  connections: number;
  requests: number;
  clock: Clock;
}

export interface CapacityResult {
  stream: boolean;
  connections: number;
  requests: number;
  errors: number;
  durationMs: number;
  rps: number;
  /** Client-side latency per request at this concurrency. */
  latencyMs: HistogramSummary;
}

const plan = (stream: boolean, index: number): PlannedRequest => ({
  index,
  key: "trivial",
  body: { messages: [{ role: "user", content: `probe ${index}` }], max_tokens: 8, temperature: 0, stream, ...(stream ? { stream_options: { include_usage: true as const } } : {}) },
});

export async function measureCapacity(o: CapacityOptions): Promise<CapacityResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const latency = new LatencyHistogram();
  let errors = 0;
  const start = o.clock.now();
  try {
    await runClosedLoop({
      connections: o.connections, count: o.requests, durationMs: null, clock: o.clock,
      send: async (i) => {
        const rec = await sendChat({ baseUrl: o.baseUrl, agent, timeoutMs: 10_000, now: o.clock.now }, plan(o.stream, i));
        if (rec.error !== null) errors++;
        else latency.record(rec.elapsedMs);
      },
    });
  } finally {
    agent.destroy();
  }
  const durationMs = o.clock.now() - start;
  return {
    stream: o.stream, connections: o.connections, requests: o.requests, errors, durationMs,
    rps: durationMs > 0 ? ((o.requests - errors) * 1000) / durationMs : 0,
    latencyMs: latency.summary(),
  };
}
