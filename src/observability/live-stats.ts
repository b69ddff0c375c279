/**
 * The figures behind GET /v1/metrics (JSON): totals, sliding-window latency percentiles and request
 * rate, and memory. Bounded memory: two windowed histograms and one ring of counters.
 */
import { LatencyWindow, WINDOW_ESTIMATOR, type LatencySummary } from "./latency-window.js";
import type { MemoryTracker } from "./memory.js";
import type { Category } from "./json-query.js";
import type { FinishedRequest, GaugeSources } from "./prom-metrics.js";
import { SlidingCounter } from "./sliding-counter.js";

export interface JsonMetrics {
  timestamp: string;
  uptime_seconds: number;
  degraded: boolean;
  degraded_reasons: string[];
  cache?: { hits: number; misses: number; hit_rate: number };
  latency?: { unit: "ms"; window_seconds: number; estimator: string; e2e: LatencySummary; ttft: LatencySummary };
  memory?: {
    rss_mb: number | null;
    heap_used_mb: number | null;
    external_mb: number | null;
    peak_rss_mb: number | null;
    baseline_rss_mb: number | null;
    growth_pct: number | null;
  };
  throughput?: { total_requests: number; requests_per_second: number; window_seconds: number };
  requests?: { running: number; waiting: number; failed: number };
}

export interface LiveStatsOptions {
  /** Monotonic clock in ms. */
  now: () => number;
  /** Wall clock in ms since the epoch, for the timestamp only. */
  wallClock: () => number;
  windowMs: number;
  memory: MemoryTracker;
  sources: GaugeSources;
}

const SLOTS = 12;
export const MEMORY_READING_FAILED = "memory reading failed";

const valid = (ms: number | null): ms is number => ms !== null && Number.isFinite(ms) && ms >= 0;

export class LiveStats {
  readonly #o: LiveStatsOptions;
  readonly #start: number;
  readonly #e2e: LatencyWindow;
  readonly #ttft: LatencyWindow;
  readonly #rate: SlidingCounter;
  #total = 0;
  #failed = 0;
  #hits = 0;
  #misses = 0;

  constructor(options: LiveStatsOptions) {
    this.#o = options;
    this.#start = options.now();
    this.#e2e = new LatencyWindow({ windowMs: options.windowMs, slots: SLOTS, now: options.now });
    this.#ttft = new LatencyWindow({ windowMs: options.windowMs, slots: SLOTS, now: options.now });
    this.#rate = new SlidingCounter({ windowMs: options.windowMs, slots: SLOTS, now: options.now });
  }

  recordRequest(r: FinishedRequest): void {
    this.#total++;
    this.#rate.add();
    if (r.outcome !== "success") this.#failed++;
    else if (valid(r.e2eMs)) this.#e2e.record(r.e2eMs);
    this.#o.memory.requestCompleted();
  }

  /** A request's first token, as it happens (the request may still fail later). */
  recordTimeToFirstToken(ms: number): void {
    if (valid(ms)) this.#ttft.record(ms);
  }

  cacheHit(): void {
    this.#hits++;
  }

  cacheMiss(): void {
    this.#misses++;
  }

  snapshot(categories: readonly Category[], degradedReasons: readonly string[]): JsonMetrics {
    const reasons = [...degradedReasons];
    const out: JsonMetrics = {
      timestamp: new Date(this.#o.wallClock()).toISOString(),
      uptime_seconds: Math.round(Math.max(0, this.#o.now() - this.#start)) / 1000,
      degraded: false,
      degraded_reasons: reasons,
    };
    const want = new Set(categories);
    if (want.has("cache")) {
      const lookups = this.#hits + this.#misses;
      out.cache = { hits: this.#hits, misses: this.#misses, hit_rate: lookups === 0 ? 0 : Math.round((this.#hits / lookups) * 10_000) / 10_000 };
    }
    if (want.has("latency")) {
      out.latency = { unit: "ms", window_seconds: this.#o.windowMs / 1000, estimator: WINDOW_ESTIMATOR, e2e: this.#e2e.summary(), ttft: this.#ttft.summary() };
    }
    if (want.has("memory")) {
      const m = this.#o.memory.snapshot();
      if (!m.ok && !reasons.includes(MEMORY_READING_FAILED)) reasons.push(MEMORY_READING_FAILED);
      out.memory = m.ok
        ? { rss_mb: m.rssMb, heap_used_mb: m.heapUsedMb, external_mb: m.externalMb, peak_rss_mb: m.peakRssMb, baseline_rss_mb: m.baselineRssMb, growth_pct: m.growthPct }
        : { rss_mb: null, heap_used_mb: null, external_mb: null, peak_rss_mb: null, baseline_rss_mb: null, growth_pct: null };
    }
    if (want.has("throughput")) {
      out.throughput = { total_requests: this.#total, requests_per_second: Math.round(this.#rate.ratePerSecond() * 1000) / 1000, window_seconds: this.#o.windowMs / 1000 };
    }
    if (want.has("requests")) {
      const waiting = this.#o.sources.pool()?.waiting ?? 0;
      out.requests = { running: Math.max(0, this.#o.sources.inFlight() - waiting), waiting, failed: this.#failed };
    }
    out.degraded = reasons.length > 0;
    return out;
  }
}
