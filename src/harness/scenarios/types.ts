/**
 * Scenario and threshold definitions: the JSON files in load/ after validation. The file format is
 * documented in load/README.md; validate-scenario.ts and validate-thresholds.ts enforce it.
 */

/** One load scenario (load/scenarios/<name>.json). */
export interface ScenarioDef {
  name: string;
  description: string;
  /** "quick" puts the scenario in `gauntlet gate`. */
  tags: string[];
  /** Measured requests (bounded runs); exactly one of requests and durationMs is set. */
  requests: number | null;
  /** Measured duration (ms) for time-bounded runs. */
  durationMs: number | null;
  /** Closed loop: requests in flight at once. Open loop (rate set): the most allowed in flight. */
  connections: number;
  /** Open loop: requests started per second on a precomputed schedule; null = closed loop. */
  rate: number | null;
  arrival: "constant" | "poisson";
  /** Seed for the poisson schedule. */
  seed: number;
  stream: boolean;
  /** Prompt template; `{i}` becomes the prompt number (request index modulo distinctPrompts). */
  prompt: string;
  system: string | null;
  distinctPrompts: number;
  /** max_tokens values, cycled by request index. */
  maxTokens: number[];
  temperature: number;
  /** "reference": every answer must equal the same request run alone first (temperature 0). */
  check: "reference" | "none";
  /** Requests sent before measuring (after the references), not counted. */
  warmupRequests: number;
  /** Client-side limit for one request. */
  timeoutMs: number;
  /** Only for the bundled server: extra `gauntlet serve` arguments and environment. */
  server: { args: string[]; env: Record<string, string> };
}

/** A named gate expression; null in a per-scenario table removes a default of that name. */
export type GateTable = Record<string, string | null>;

export interface ValidityLimits {
  /** The run is INVALID when the harness's event-loop delay p99 exceeds this (ms). */
  maxEventLoopDelayP99Ms: number;
  /** The run is INVALID when open-loop send lateness p99 exceeds this (ms). */
  maxSendLatenessP99Ms: number;
  /** Client E2E may exceed the server's total_ms by at most this much (ms) ... */
  timingToleranceMs: number;
  /** ... or this fraction of the client's time, whichever is larger. */
  timingTolerancePct: number;
  /** Little's law self-check: mean latency vs connections / throughput. */
  littlesLawTolerancePct: number;
  /** Measured throughput above this share of the harness's own capacity means the harness was the limit. */
  harnessCapacityPct: number;
  /** The run is INVALID when other processes used more than this share of the machine's CPU (bundled server only). */
  maxForeignCpuPct: number;
}

export interface BaselinePolicy {
  /** Smallest regression (percent) that fails a baseline gate. */
  minTolerancePct: number;
  /** Tolerance = max(minTolerancePct, noiseMultiplier * the baseline's relative standard error). */
  noiseMultiplier: number;
}

/** load/thresholds.json after validation. */
export interface ThresholdsDef {
  defaults: Record<string, string>;
  scenarios: Record<string, GateTable>;
  validity: ValidityLimits;
  baseline: BaselinePolicy;
}

export const DEFAULT_VALIDITY: Readonly<ValidityLimits> = Object.freeze({
  maxEventLoopDelayP99Ms: 200,
  maxSendLatenessP99Ms: 100,
  timingToleranceMs: 50,
  timingTolerancePct: 10,
  littlesLawTolerancePct: 30,
  harnessCapacityPct: 80,
  maxForeignCpuPct: 40,
});

export const DEFAULT_BASELINE_POLICY: Readonly<BaselinePolicy> = Object.freeze({ minTolerancePct: 10, noiseMultiplier: 3 });
