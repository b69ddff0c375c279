/**
 * The response cache, its circuit breaker and the memory guard as the server sees them: the cache built
 * with its events wired to metrics and warning logs (reason or error code only: never a path, a key or
 * cached text), and what /health and the degraded reasons say about all three.
 */
import { join } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import type { CacheFs } from "../cache/cache-fs.js";
import { createResponseCache, type ResponseCache } from "../cache/response-cache.js";
import type { CircuitBreaker } from "../resilience/circuit-breaker.js";
import type { MemoryGuard } from "../resilience/memory-guard.js";
import type { ServerMetrics } from "../observability/server-metrics.js";

export interface CacheSettings {
  maxBytes: number;
  quarantineMaxBytes: number;
  /** Disk budget of the records (default 256 MiB). */
  diskMaxBytes?: number;
  /** Time bound of one disk read or write (default 1000 ms). */
  ioTimeoutMs?: number;
}

export interface ServerCacheOptions {
  cacheDir: string;
  settings: CacheSettings;
  fingerprint: string;
  fs?: CacheFs | undefined;
  breaker: CircuitBreaker | null;
  metrics: ServerMetrics;
  log: FastifyBaseLogger;
}

/** Builds the response cache under cacheDir/responses/<first 16 hex of the fingerprint> and opens it in the background. */
export function startServerResponseCache(o: ServerCacheOptions): ResponseCache {
  const { metrics, log } = o;
  const cache = createResponseCache({
    dir: join(o.cacheDir, "responses", o.fingerprint.slice(0, 16)),
    fingerprint: o.fingerprint,
    maxBytes: o.settings.maxBytes,
    quarantineMaxBytes: o.settings.quarantineMaxBytes,
    diskMaxBytes: o.settings.diskMaxBytes,
    ioTimeoutMs: o.settings.ioTimeoutMs,
    pruneOtherModels: true,
    fs: o.fs,
    breaker: o.breaker,
    events: {
      hit: () => metrics.cache.hit(),
      miss: () => metrics.cache.miss(),
      // One warning per bad record (it is quarantined, so never found again).
      corruption: (reason) => {
        metrics.cache.corruption(reason);
        log.warn({ reason }, "response cache: corrupt record quarantined");
      },
      recovered: () => metrics.cache.recovered(),
      ioError: (err) => {
        metrics.cache.ioError(err.op, err.code);
        log.warn({ code: err.code, op: err.op }, "response cache: disk operation failed");
      },
      // Once per key: a directory, a FIFO or an unreadable file sits where that one record should be.
      unusable: (err) => {
        metrics.cache.corruption("io");
        log.warn({ code: err.code, op: err.op }, "response cache: unusable record path skipped (left in place)");
      },
      staleModelsRemoved: (r) => log.info({ dirs: r.dirs, files: r.files, bytes: r.bytes }, "response cache: removed the record directories of other models"),
      diskRecovered: () => log.info("response cache: disk store available again"),
    },
  });
  // Never awaited by requests: the open and the scan run in the background.
  void cache.open();
  return cache;
}

/** Why the cache, breaker or memory guard make the server degraded (empty when they do not). */
export function resilienceReasons(cache: ResponseCache | null, guard: MemoryGuard | null): string[] {
  const reasons: string[] = [];
  if (cache?.degraded()) reasons.push("the response cache is bypassed after repeated errors (circuit breaker open)");
  const diskError = cache?.stats().diskError ?? null;
  if (cache && diskError !== null) {
    reasons.push(`the response cache's disk store cannot be used (${diskError}): answers are cached in memory only; it is opened again in the background`);
  }
  const mem = guard?.stats();
  if (mem && mem.state !== "ok") reasons.push(`memory ${mem.state}: ${Math.round(mem.lastUsagePct)}% of the limit in use`);
  return reasons;
}

export interface ResilienceHealthDeps {
  cache: ResponseCache | null;
  breaker: CircuitBreaker | null;
  guard: MemoryGuard | null;
  memoryLimit: { bytes: number; source: string } | null;
}

/** The /health sections: responseCache, breaker and memoryGuard (null when the server has none). */
export function resilienceHealth(d: ResilienceHealthDeps): Record<string, unknown> {
  const b = d.breaker?.stats ?? null;
  const m = d.guard?.stats() ?? null;
  return {
    responseCache: d.cache?.stats() ?? null,
    breaker: b && {
      enabled: b.enabled,
      state: b.state,
      consecutiveFailures: b.consecutiveFailures,
      consecutiveSuccesses: b.consecutiveSuccesses,
      failures: b.failures,
      successes: b.successes,
      rejected: b.rejected,
      retryAfterMs: Math.ceil(d.breaker?.retryAfterMs() ?? 0),
      transitions: b.transitions,
    },
    memoryGuard: m && {
      state: m.state,
      usagePct: Math.round(m.lastUsagePct * 10) / 10,
      usageBytes: m.lastUsageBytes,
      limitBytes: d.memoryLimit?.bytes ?? null,
      limitSource: d.memoryLimit?.source ?? null,
      clears: m.clears,
      rejections: m.rejections,
    },
  };
}
