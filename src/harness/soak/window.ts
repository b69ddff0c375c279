/**
 * Per-window aggregation for soak runs, in constant memory.
 *
 * One window's state at a time: request outcomes (ok/failed with capped error
 * kinds, e2e and TTFT latencies in injected histograms or capped samplers), memory
 * samples (RSS, heapUsed, external, RSS + external), event-loop delay and canary
 * results. flush() closes the window into a plain JSON WindowRecord and drops its
 * state, so memory does not depend on how many windows pass; the caller journals
 * the record. `now` must be a monotonic clock in ms (performance.now), so a
 * wall-clock jump moves no window boundary.
 */
import { createHistogramTrack, createSampler } from "./window-sampler.js";
import type { HistogramFactory, Sampler, ValueSummary, ValueTrack } from "./window-sampler.js";

export type { HistogramFactory, HistogramLike, ValueSummary } from "./window-sampler.js";

export interface WindowAggregatorOptions {
  /** Monotonic clock, ms. */
  now: () => number;
  /** Default 60,000. */
  windowMs?: number;
  /** For e2e and TTFT; without it capped samplers are used. */
  histogram?: HistogramFactory;
  /** Cap of each sampler's retained values. Default 2048. */
  maxSamplesPerWindow?: number;
  /** Distinct error kinds / canary names kept; the rest count as "other". Default 16. */
  maxErrorKinds?: number;
}

export interface RequestOutcome {
  ok: boolean;
  e2eMs?: number | undefined;
  ttftMs?: number | undefined;
  /** Error kind of a failed request, e.g. "timeout", "http_500". */
  error?: string | undefined;
}

export interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface CanaryResult {
  ok: boolean;
  latencyMs?: number | undefined;
  name?: string | undefined;
}

export interface MemoryStat {
  last: number;
  max: number;
  median: number;
}

export interface WindowRecord {
  index: number;
  startMs: number;
  endMs: number;
  requests: { total: number; ok: number; failed: number; errors: Record<string, number> };
  e2eMs: ValueSummary;
  ttftMs: ValueSummary;
  memory: {
    samples: number;
    rss: MemoryStat;
    heapUsed: MemoryStat;
    external: MemoryStat;
    rssPlusExternal: MemoryStat;
  } | null;
  eventLoopDelayMs: ValueSummary;
  canaries: { total: number; ok: number; failed: number; failures: Record<string, number>; latencyMs: ValueSummary };
}

export interface WindowAggregator {
  recordRequest(outcome: RequestOutcome): void;
  recordMemory(reading: MemoryReading): void;
  recordEventLoopDelay(ms: number): void;
  recordCanary(result: CanaryResult): void;
  /** ms until the current window is due (<= 0 when due). */
  dueInMs(): number;
  /** Closes the window if windowMs have passed since it started; else null. */
  flushIfDue(): WindowRecord | null;
  /** Closes the current window now and starts the next one. */
  flush(): WindowRecord;
  /** Numbers, histograms and error kinds currently held (for memory tests). */
  retainedSize(): number;
}

interface WindowState {
  startMs: number;
  ok: number;
  failed: number;
  errors: Map<string, number>;
  e2e: ValueTrack;
  ttft: ValueTrack;
  memory: { rss: Sampler; heapUsed: Sampler; external: Sampler; total: Sampler };
  eventLoop: Sampler;
  canaryOk: number;
  canaryFailures: Map<string, number>;
  canaryLatency: Sampler;
}

export function createWindowAggregator(options: WindowAggregatorOptions): WindowAggregator {
  const { now, histogram } = options;
  const windowMs = options.windowMs ?? 60_000;
  const cap = options.maxSamplesPerWindow ?? 2048;
  const maxKinds = options.maxErrorKinds ?? 16;
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);

  const latencyTrack = (): ValueTrack => (histogram ? createHistogramTrack(histogram) : createSampler(cap));
  const fresh = (startMs: number): WindowState => ({
    startMs,
    ok: 0,
    failed: 0,
    errors: new Map(),
    e2e: latencyTrack(),
    ttft: latencyTrack(),
    memory: { rss: createSampler(cap), heapUsed: createSampler(cap), external: createSampler(cap), total: createSampler(cap) },
    eventLoop: createSampler(cap),
    canaryOk: 0,
    canaryFailures: new Map(),
    canaryLatency: createSampler(cap),
  });
  const bump = (counts: Map<string, number>, kind: string): void => {
    const key = counts.has(kind) || counts.size < maxKinds ? kind : "other";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  let index = 0;
  let state = fresh(now());

  const flush = (): WindowRecord => {
    const endMs = now();
    const s = state;
    state = fresh(endMs);
    return toRecord(index++, s, endMs);
  };

  return {
    recordRequest(o) {
      if (o.ok) state.ok++;
      else {
        state.failed++;
        bump(state.errors, o.error ?? "unknown");
      }
      if (o.e2eMs !== undefined) state.e2e.add(o.e2eMs);
      if (o.ttftMs !== undefined) state.ttft.add(o.ttftMs);
    },
    recordMemory(m) {
      state.memory.rss.add(m.rss);
      state.memory.heapUsed.add(m.heapUsed);
      state.memory.external.add(m.external);
      state.memory.total.add(m.rss + m.external);
    },
    recordEventLoopDelay(ms) {
      state.eventLoop.add(ms);
    },
    recordCanary(c) {
      if (c.ok) state.canaryOk++;
      else bump(state.canaryFailures, c.name ?? "canary");
      if (c.latencyMs !== undefined) state.canaryLatency.add(c.latencyMs);
    },
    dueInMs: () => state.startMs + windowMs - now(),
    flushIfDue: () => (now() - state.startMs >= windowMs ? flush() : null),
    flush,
    retainedSize() {
      const m = state.memory;
      return (
        state.e2e.retained() + state.ttft.retained() + m.rss.retained() + m.heapUsed.retained() + m.external.retained() +
        m.total.retained() + state.eventLoop.retained() + state.canaryLatency.retained() + state.errors.size + state.canaryFailures.size
      );
    },
  };
}

/** median = nearest-rank p50 of the retained samples. */
function memoryStat(s: Sampler): MemoryStat | null {
  const last = s.last();
  if (last === null) return null;
  const { max, p50 } = s.summary();
  return max === null || p50 === null ? null : { last, max, median: p50 };
}

function toRecord(index: number, s: WindowState, endMs: number): WindowRecord {
  const rss = memoryStat(s.memory.rss);
  const heapUsed = memoryStat(s.memory.heapUsed);
  const external = memoryStat(s.memory.external);
  const rssPlusExternal = memoryStat(s.memory.total);
  const canaryFailed = [...s.canaryFailures.values()].reduce((a, b) => a + b, 0);
  return {
    index,
    startMs: s.startMs,
    endMs,
    requests: { total: s.ok + s.failed, ok: s.ok, failed: s.failed, errors: Object.fromEntries(s.errors) },
    e2eMs: s.e2e.summary(),
    ttftMs: s.ttft.summary(),
    memory:
      rss && heapUsed && external && rssPlusExternal
        ? { samples: s.memory.rss.count(), rss, heapUsed, external, rssPlusExternal }
        : null,
    eventLoopDelayMs: s.eventLoop.summary(),
    canaries: {
      total: s.canaryOk + canaryFailed,
      ok: s.canaryOk,
      failed: canaryFailed,
      failures: Object.fromEntries(s.canaryFailures),
      latencyMs: s.canaryLatency.summary(),
    },
  };
}

/**
 * One memory sample (RSS, window median) per window, at its midpoint: what the leak verdict judges.
 * RSS already holds external memory (Buffers), so RSS + external would count it twice.
 */
export function memorySamplesFromWindows(records: readonly WindowRecord[]): { tMs: number; bytes: number }[] {
  return records.flatMap((r) =>
    r.memory ? [{ tMs: (r.startMs + r.endMs) / 2, bytes: r.memory.rss.median }] : [],
  );
}
