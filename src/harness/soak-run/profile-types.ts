/** A resolved soak profile: what one soak run does (load/soak-profiles.json defaults + a preset + flags). */

export interface WorkloadMix {
  /** Share of requests streamed (SSE), 0..1. */
  streamShare: number;
  /** Share of requests drawn from a small pool of temperature-0 requests (answered from the server's cache after their first time). */
  repeatShare: number;
  /** Distinct requests in that pool. */
  repeatPool: number;
  /** Prompt sizes, as repetitions of a filler sentence (several prompt sizes). */
  promptSizes: number[];
  maxTokens: number;
  /** Temperature of the fresh (non-repeat) requests; > 0 so they are never cached. */
  temperature: number;
  seed: number;
}

export interface CanarySpec {
  prompt: string;
  maxTokens: number;
}

export interface MemoryVerdictOptions {
  maxGrowthPct: number;
  confidence: number;
  minPostWarmupSamples: number;
}

export interface LatencyVerdictOptions {
  /** A latency window is bad when p95 >= maxRatio x p50. */
  maxRatio: number;
  /** K, reported with the latency verdict (the gate expression decides). */
  maxConsecutiveBad: number;
  /** Fewest fresh requests in a latency window: consecutive journal windows are merged until they hold this many. */
  minRequests: number;
}

export interface VerdictOptions {
  memory: MemoryVerdictOptions;
  latency: LatencyVerdictOptions;
  /** Harness event-loop delay p99 (per window) at or above which a window counts as lagging. */
  maxEventLoopDelayP99Ms: number;
  /** The harness's send lateness p99 (per window, open loop) above which a window counts as sent late. */
  maxSendLatenessP99Ms: number;
  /**
   * A latency window in which other processes used more than this share (%) of the machine's CPU is
   * not judged (its tail says more about them than about the server); the run is INVALID when at
   * least half of the latency windows after warm-up were. Measured only for the bundled server.
   * Default 70, above stress runs' 40: the soak's latency gate compares each window's tail with its
   * own median, which a uniformly busier machine moves alike; measured on a 2-core VM with the
   * `small` model and 32-token answers, p95/p50 was 1.1-1.4 with others below 5%, up to ~1.8 at
   * ~65% and about 2 beyond 75%.
   */
  maxForeignCpuPct: number;
  /** The run is INVALID when more than this share of windows lagged (event loop) or were sent late. */
  maxLaggingWindowShare: number;
}

export interface SoakProfile {
  /** Preset name, or "default". */
  name: string;
  description: string;
  /** Planned duration; null when neither the preset nor --duration gives one. */
  durationMs: number | null;
  windowMs: number;
  /** Open loop at this many requests per second (at most `concurrency` in flight); null = closed loop. */
  ratePerSecond: number | null;
  concurrency: number;
  requestTimeoutMs: number;
  memoryIntervalMs: number;
  workload: WorkloadMix;
  canary: CanarySpec;
  server: { args: string[]; env: Record<string, string> };
  verdict: VerdictOptions;
  /** Gate name -> expression over the soak metrics. */
  gates: Record<string, string>;
}

/** A profile before the memory interval is settled (null: about ten samples per window). */
export type DraftProfile = Omit<SoakProfile, "memoryIntervalMs"> & { memoryIntervalMs: number | null };

export const BUILTIN_PROFILE: DraftProfile = {
  name: "default",
  description: "steady mixed workload",
  durationMs: null,
  windowMs: 60_000,
  ratePerSecond: 2,
  concurrency: 2,
  requestTimeoutMs: 30_000,
  memoryIntervalMs: null,
  workload: { streamShare: 0.5, repeatShare: 0.25, repeatPool: 8, promptSizes: [1, 8, 32], maxTokens: 16, temperature: 0.7, seed: 1 },
  canary: { prompt: "Canary: list the first five prime numbers.", maxTokens: 24 },
  server: { args: [], env: {} },
  verdict: {
    memory: { maxGrowthPct: 20, confidence: 0.95, minPostWarmupSamples: 30 },
    latency: { maxRatio: 2, maxConsecutiveBad: 2, minRequests: 20 },
    maxEventLoopDelayP99Ms: 200,
    maxSendLatenessP99Ms: 100,
    maxForeignCpuPct: 70,
    maxLaggingWindowShare: 0.05,
  },
  gates: {},
};

/** About ten memory samples per window, between 4 a second and one every 10 s. */
export function autoMemoryIntervalMs(windowMs: number): number {
  return Math.min(10_000, Math.max(250, Math.round(windowMs / 10)));
}
