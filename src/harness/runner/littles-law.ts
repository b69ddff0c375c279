/**
 * Little's law self-check for closed-loop runs: with every connection busy, mean latency W should
 * be close to connections / throughput. autocannon 9 reconnecting to a server that closes
 * keep-alive connections times the re-queued request from its stale start (reporting ~100 ms where
 * the truth is 4 ms) while its throughput stays right: exactly the disagreement this catches.
 */
export interface LittlesLawInput {
  connections: number;
  requests: number;
  throughputRps: number | null;
  meanLatencyMs: number | null;
}

export interface LittlesLawCheck {
  status: "ok" | "mismatch" | "not-checked";
  expectedMeanMs: number | null;
  /** (measured - expected) / expected * 100 */
  errorPct: number | null;
  note: string;
}

/** Ramp-up and ramp-down dominate below this many requests per connection. */
export const MIN_REQUESTS_PER_CONNECTION = 4;

export function littlesLawCheck(i: LittlesLawInput, tolerancePct: number): LittlesLawCheck {
  if (i.throughputRps === null || i.meanLatencyMs === null || i.throughputRps <= 0) {
    return { status: "not-checked", expectedMeanMs: null, errorPct: null, note: "Little's law not checked: no throughput or latency" };
  }
  if (i.requests < MIN_REQUESTS_PER_CONNECTION * i.connections) {
    return {
      status: "not-checked", expectedMeanMs: null, errorPct: null,
      note: `Little's law not checked: ${i.requests} requests on ${i.connections} connections is too few for a steady state`,
    };
  }
  const expectedMeanMs = (i.connections / i.throughputRps) * 1000;
  const errorPct = ((i.meanLatencyMs - expectedMeanMs) / expectedMeanMs) * 100;
  const r = (v: number) => Math.round(v * 10) / 10;
  if (Math.abs(errorPct) <= tolerancePct) {
    return { status: "ok", expectedMeanMs, errorPct, note: `Little's law holds: mean latency ${r(i.meanLatencyMs)} ms vs ${r(expectedMeanMs)} ms from connections / throughput` };
  }
  return {
    status: "mismatch", expectedMeanMs, errorPct,
    note: `Little's law check failed: mean latency ${r(i.meanLatencyMs)} ms but connections / throughput gives ${r(expectedMeanMs)} ms (${r(errorPct)}%, tolerance ${tolerancePct}%): latencies are suspect (stale timing on reconnects?) or connections sat idle`,
  };
}
