/**
 * The server's metrics object: one typed API (requests, inter-token gaps, cache, retries, degraded,
 * log failures) feeding both the Prometheus registry (GET /metrics) and the sliding-window JSON
 * figures (GET /v1/metrics). One instance per buildServer; nothing global.
 */
import { performance } from "node:perf_hooks";
import type { Registry } from "prom-client";
import { CATEGORIES, type Category } from "./json-query.js";
import { LiveStats, MEMORY_READING_FAILED, type JsonMetrics } from "./live-stats.js";
import { MemoryTracker, processMemoryReader, type MemoryReader } from "./memory.js";
import { createPromMetrics, type CacheMetrics, type FinishedRequest, type GaugeSources } from "./prom-metrics.js";

export type { FinishedRequest, GaugeSources } from "./prom-metrics.js";
export type { JsonMetrics } from "./live-stats.js";

export interface ServerMetricsOptions {
  sources: GaugeSources;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Wall clock in ms since the epoch, for timestamps only (default Date.now). */
  wallClock?: () => number;
  /** Reads process memory; inject one that throws to test degraded reporting. */
  memoryReader?: MemoryReader;
  /** Sliding window of the JSON latency percentiles and request rate (default 60 s). */
  windowMs?: number;
  /** Memory baseline: after this many completed chat requests (default 20) ... */
  baselineAfterRequests?: number;
  /** ... or this much uptime (default 60 s), whichever comes first. */
  baselineAfterMs?: number;
  /** Register prom-client's default process/runtime collectors (default true). */
  processMetrics?: boolean;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** Content-Type of the Prometheus text. */
  readonly contentType: string;
  prometheus(): Promise<string>;
  json(categories?: readonly Category[]): JsonMetrics;
  /** Call once per finished chat-completion request. */
  recordRequest(r: FinishedRequest): void;
  /** Arrival to slot start, in ms: call when the slot is granted (whatever happens to the request later). */
  observeQueueTime(ms: number): void;
  /** Arrival to the first generated text, in ms: call at the first chunk (whatever happens later). */
  observeTimeToFirstToken(ms: number): void;
  /** Gap between two consecutive generated chunks of one response, in ms. */
  observeInterToken(ms: number): void;
  readonly cache: CacheMetrics;
  readonly retries: { inc(n?: number): void };
  setDegraded(degraded: boolean): void;
  /** A log line the destination could not take. */
  logWriteFailed(): void;
}

export const DEFAULT_WINDOW_MS = 60_000;

export function createServerMetrics(opts: ServerMetricsOptions): ServerMetrics {
  const now = opts.now ?? (() => performance.now());
  const memory = new MemoryTracker({
    read: opts.memoryReader ?? processMemoryReader,
    now,
    baselineAfterRequests: opts.baselineAfterRequests,
    baselineAfterMs: opts.baselineAfterMs,
  });
  let degraded = false;
  /** One list of reasons for both the JSON `degraded` and the gauntlet_degraded gauge, so they always agree. */
  const degradedReasons = (): string[] => {
    const reasons: string[] = [];
    if (degraded) reasons.push("degraded mode");
    reasons.push(...opts.sources.degradedReasons());
    if (!memory.readable()) reasons.push(MEMORY_READING_FAILED);
    return [...new Set(reasons)];
  };
  const sources: GaugeSources = { ...opts.sources, degradedReasons };
  const prom = createPromMetrics({ sources, processMetrics: opts.processMetrics });
  const live = new LiveStats({ now, wallClock: opts.wallClock ?? Date.now, windowMs: opts.windowMs ?? DEFAULT_WINDOW_MS, memory, sources });

  return {
    registry: prom.registry,
    contentType: prom.registry.contentType,
    prometheus: () => prom.registry.metrics(),
    json(categories = CATEGORIES) {
      return live.snapshot(categories, degradedReasons());
    },
    recordRequest(r) {
      prom.recordRequest(r);
      live.recordRequest(r);
    },
    observeQueueTime: (ms) => prom.observeQueueTime(ms),
    observeTimeToFirstToken(ms) {
      prom.observeTimeToFirstToken(ms);
      live.recordTimeToFirstToken(ms);
    },
    observeInterToken: (ms) => prom.observeInterToken(ms),
    cache: {
      hit() {
        prom.cache.hit();
        live.cacheHit();
      },
      miss() {
        prom.cache.miss();
        live.cacheMiss();
      },
      corruption: (reason) => prom.cache.corruption(reason),
      recovered: () => prom.cache.recovered(),
      ioError: (op, code) => prom.cache.ioError(op, code),
      setEntries: (entries, bytes) => prom.cache.setEntries(entries, bytes),
    },
    retries: prom.retries,
    setDegraded(d) {
      degraded = d;
    },
    logWriteFailed: () => prom.logWriteErrors.inc(),
  };
}
