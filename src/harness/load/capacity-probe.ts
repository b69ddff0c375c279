/**
 * How fast can this harness drive requests at all? Runs the client each kind of scenario uses (autocannon
 * for plain closed-loop load when given it, our own streaming client otherwise) in a closed loop against the
 * trivial endpoint: requests per second at `connections`, and the per-request overhead (latency at
 * one connection, i.e. client plus loopback plus a server that does nothing).
 */
import http from "node:http";
import type { PlannedRequest } from "../scenarios/plan.js";
import { LatencyHistogram } from "../stats/histogram.js";
import type { HistogramSummary } from "../stats/histogram.js";
import { runAutocannon } from "./autocannon-driver.js";
import type { AutocannonFn } from "./autocannon-driver.js";
import { sendChat } from "./chat-client.js";
import type { Clock } from "./clock.js";
import { runClosedLoop } from "./drivers.js";

export interface CapacityOptions {
  baseUrl: string;
  stream: boolean;
  connections: number;
  requests: number;
  clock: Clock;
  /** Plain (non-streaming) requests go through autocannon when given, as plain closed-loop scenarios do. */
  autocannon?: AutocannonFn | null;
}

export interface CapacityResult {
  stream: boolean;
  connections: number;
  requests: number;
  errors: number;
  /** Which client drove the requests. */
  client: "autocannon" | "gauntlet-client";
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
  const latency = new LatencyHistogram();
  let errors = 0;
  // The window runs from the first send to the last answer, as scenario throughput does: autocannon takes up
  // to a second after its last answer to report, which would otherwise cap a short probe near 500 req/s.
  let firstSent = Infinity;
  let lastDone = -Infinity;
  const seen = (sentAt: number, elapsedMs: number) => {
    firstSent = Math.min(firstSent, sentAt);
    lastDone = Math.max(lastDone, sentAt + elapsedMs);
  };
  const viaAutocannon = !o.stream && o.autocannon != null;
  if (viaAutocannon) {
    await runAutocannon(o.autocannon!, {
      baseUrl: o.baseUrl, connections: o.connections, count: o.requests, durationMs: null, rate: null, timeoutMs: 10_000, clock: o.clock,
      plan: (i) => plan(false, i),
      onRecord: (rec) => {
        if (rec.error !== null) errors++;
        else {
          latency.record(rec.elapsedMs);
          seen(rec.sentAt, rec.elapsedMs);
        }
      },
    });
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
    try {
      await runClosedLoop({
        connections: o.connections, count: o.requests, durationMs: null, clock: o.clock,
        send: async (i) => {
          const rec = await sendChat({ baseUrl: o.baseUrl, agent, timeoutMs: 10_000, now: o.clock.now }, plan(o.stream, i));
          if (rec.error !== null) errors++;
          else {
            latency.record(rec.elapsedMs);
            seen(rec.sentAt, rec.elapsedMs);
          }
        },
      });
    } finally {
      agent.destroy();
    }
  }
  const durationMs = lastDone > firstSent ? lastDone - firstSent : 0;
  return {
    stream: o.stream, connections: o.connections, requests: o.requests, errors, client: viaAutocannon ? "autocannon" : "gauntlet-client", durationMs,
    rps: durationMs > 0 ? ((o.requests - errors) * 1000) / durationMs : 0,
    latencyMs: latency.summary(),
  };
}
