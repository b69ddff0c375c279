import { describe, expect, test } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createWindowAggregator, memorySamplesFromWindows } from "../../src/harness/soak/window.js";
import type { HistogramLike } from "../../src/harness/soak/window.js";
import { createSampler } from "../../src/harness/soak/window-sampler.js";

/** A forced GC without --expose-gc on the command line. */
function obtainGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

function fakeClock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Keeps only a count and the max: constant size, like a real bucketed histogram. */
function fakeHistogramFactory(): { factory: () => HistogramLike; created: () => number } {
  let created = 0;
  return {
    created: () => created,
    factory: () => {
      created++;
      let count = 0;
      let max: number | null = null;
      return {
        record(v) {
          count++;
          max = max === null ? v : Math.max(max, v);
        },
        percentile: () => max,
        toJSON: () => ({ count, max }),
      };
    },
  };
}

describe("window", () => {
  test("summarises one window of requests, memory, event-loop delay and canaries", () => {
    const clock = fakeClock();
    const agg = createWindowAggregator({ windowMs: 60_000, now: clock.now });
    for (let i = 1; i <= 100; i++) agg.recordRequest({ ok: true, e2eMs: i, ttftMs: i / 10 });
    agg.recordRequest({ ok: false, error: "timeout" });
    agg.recordRequest({ ok: false, error: "timeout" });
    agg.recordRequest({ ok: false, error: "http_500", e2eMs: 5 });
    agg.recordMemory({ rss: 100, heapUsed: 10, external: 20 });
    agg.recordMemory({ rss: 300, heapUsed: 30, external: 40 });
    agg.recordMemory({ rss: 200, heapUsed: 20, external: 30 });
    agg.recordEventLoopDelay(3);
    agg.recordEventLoopDelay(9);
    agg.recordCanary({ ok: true, latencyMs: 40 });
    agg.recordCanary({ ok: false, latencyMs: 90, name: "json-mode" });
    clock.advance(60_000);
    const w = agg.flushIfDue();
    expect(w).not.toBeNull();
    expect(w!.index).toBe(0);
    expect(w!.startMs).toBe(1000);
    expect(w!.endMs).toBe(61_000);
    expect(w!.requests).toEqual({ total: 103, ok: 100, failed: 3, errors: { timeout: 2, http_500: 1 } });
    expect(w!.e2eMs).toMatchObject({ count: 101, p50: 50, p95: 95, p99: 99, max: 100, min: 1, estimator: "exact" });
    expect(w!.ttftMs.p50).toBeCloseTo(5, 9);
    expect(w!.memory).toEqual({
      samples: 3,
      rss: { last: 200, max: 300, median: 200 },
      heapUsed: { last: 20, max: 30, median: 20 },
      external: { last: 30, max: 40, median: 30 },
      rssPlusExternal: { last: 230, max: 340, median: 230 },
    });
    expect(w!.eventLoopDelayMs).toMatchObject({ count: 2, max: 9 });
    expect(w!.canaries).toMatchObject({ total: 2, ok: 1, failed: 1, failures: { "json-mode": 1 } });
  });

  test("is not due before the window length and starts the next window where the last ended", () => {
    const clock = fakeClock(0);
    const agg = createWindowAggregator({ windowMs: 1000, now: clock.now });
    clock.advance(999);
    expect(agg.flushIfDue()).toBeNull();
    expect(agg.dueInMs()).toBe(1);
    clock.advance(1);
    expect(agg.flushIfDue()!.endMs).toBe(1000);
    clock.advance(250);
    const forced = agg.flush();
    expect(forced).toMatchObject({ index: 1, startMs: 1000, endMs: 1250 });
  });

  test("produces plain JSON records with nulls for empty metrics", () => {
    const clock = fakeClock();
    const agg = createWindowAggregator({ now: clock.now });
    const w = agg.flush();
    expect(JSON.parse(JSON.stringify(w))).toEqual(w);
    expect(w.e2eMs).toMatchObject({ count: 0, p50: null, p95: null, max: null });
    expect(w.memory).toBeNull();
  });

  test("uses an injected histogram factory and embeds its JSON", () => {
    const clock = fakeClock();
    const { factory, created } = fakeHistogramFactory();
    const agg = createWindowAggregator({ now: clock.now, histogram: factory });
    agg.recordRequest({ ok: true, e2eMs: 7, ttftMs: 2 });
    agg.recordRequest({ ok: true, e2eMs: 9, ttftMs: 3 });
    const w = agg.flush();
    expect(w.e2eMs).toMatchObject({ count: 2, p95: 9, estimator: "histogram", histogram: { count: 2, max: 9 } });
    expect(created()).toBe(4); // e2e + ttft for the first window and for the next one
  });

  test("caps retained samples within a window and thins them systematically", () => {
    const clock = fakeClock();
    const agg = createWindowAggregator({ now: clock.now, maxSamplesPerWindow: 256 });
    for (let i = 1; i <= 100_000; i++) agg.recordRequest({ ok: true, e2eMs: i });
    expect(agg.retainedSize()).toBeLessThanOrEqual(256 + 16);
    const w = agg.flush();
    expect(w.e2eMs.count).toBe(100_000);
    expect(w.e2eMs.max).toBe(100_000);
    expect(w.e2eMs.estimator).toBe("sampled");
    expect(Math.abs(w.e2eMs.p50! - 50_000) / 50_000).toBeLessThan(0.02);
  });

  test("caps the number of distinct error kinds", () => {
    const clock = fakeClock();
    const agg = createWindowAggregator({ now: clock.now, maxErrorKinds: 4 });
    for (let i = 0; i < 50; i++) agg.recordRequest({ ok: false, error: `kind-${i}` });
    const w = agg.flush();
    expect(Object.keys(w.requests.errors)).toHaveLength(5);
    expect(w.requests.errors.other).toBe(46);
  });

  test("retained state does not grow over 10,000 windows", () => {
    const clock = fakeClock();
    const { factory } = fakeHistogramFactory();
    const agg = createWindowAggregator({ now: clock.now, histogram: factory, windowMs: 60_000 });
    const gc = obtainGc();
    let sizeAfterFirst = -1;
    let maxDuring = 0;
    let heapAtStart = 0;
    let emitted = 0;
    const sizesAfterFlush = new Set<number>();
    for (let w = 0; w < 10_000; w++) {
      for (let i = 0; i < 6; i++) {
        agg.recordRequest({ ok: i % 7 !== 0, e2eMs: 10 + i, ttftMs: 2, error: i % 7 === 0 ? `e${i % 3}` : undefined });
        agg.recordMemory({ rss: 1e8 + i, heapUsed: 1e7, external: 1e6 });
        agg.recordEventLoopDelay(i % 5);
        agg.recordCanary({ ok: true, latencyMs: 30 });
        clock.advance(10_000);
      }
      maxDuring = Math.max(maxDuring, agg.retainedSize());
      const record = agg.flushIfDue();
      if (record) emitted++;
      if (w === 0) sizeAfterFirst = agg.retainedSize();
      if (w === 100) {
        gc();
        heapAtStart = process.memoryUsage().heapUsed;
      }
      sizesAfterFlush.add(agg.retainedSize());
    }
    expect([...sizesAfterFlush]).toEqual([sizeAfterFirst]);
    expect(emitted).toBe(10_000);
    expect(maxDuring).toBeLessThan(200);
    gc();
    expect(heapAtStart).toBeGreaterThan(0);
    expect(process.memoryUsage().heapUsed - heapAtStart).toBeLessThan(8 * 1024 * 1024);
  });

  test("turns window records into memory samples for the leak verdict: RSS, which already holds external", () => {
    const clock = fakeClock(0);
    const agg = createWindowAggregator({ now: clock.now, windowMs: 1000 });
    const records = [];
    for (let w = 0; w < 3; w++) {
      if (w !== 1) agg.recordMemory({ rss: 100 + w, heapUsed: 0, external: 10 });
      clock.advance(1000);
      records.push(agg.flushIfDue()!);
    }
    expect(memorySamplesFromWindows(records)).toEqual([
      { tMs: 500, bytes: 100 },
      { tMs: 2500, bytes: 102 },
    ]);
  });

  test("rejects a non-positive window length", () => {
    expect(() => createWindowAggregator({ now: () => 0, windowMs: 0 })).toThrow(RangeError);
  });
});

describe("window-sampler", () => {
  test("keeps every value until the cap and exact nearest-rank percentiles", () => {
    const s = createSampler(100);
    for (const v of [5, 1, 4, 2, 3]) s.add(v);
    expect(s.summary()).toMatchObject({ count: 5, min: 1, max: 5, mean: 3, p50: 3, p95: 5, estimator: "exact" });
  });

  test("never retains more than its cap", () => {
    const s = createSampler(64);
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      s.add(i);
      most = Math.max(most, s.retained());
    }
    expect(most).toBeLessThanOrEqual(64);
    expect(s.summary().count).toBe(10_000);
  });
});
