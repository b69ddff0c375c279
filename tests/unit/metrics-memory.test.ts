import { describe, expect, test } from "vitest";
import { MemoryTracker, processMemoryReader, type MemoryReading } from "../../src/observability/memory.js";

const MiB = 1024 * 1024;
const reading = (rssMiB: number, extra: Partial<MemoryReading> = {}): MemoryReading => ({
  rssBytes: rssMiB * MiB,
  heapUsedBytes: 10 * MiB,
  externalBytes: 2 * MiB,
  ...extra,
});

describe("MemoryTracker", () => {
  test("reports the current reading in MiB with growth 0 and no baseline before warm-up", () => {
    const t = new MemoryTracker({ read: () => reading(100), now: () => 0, baselineAfterRequests: 5, baselineAfterMs: 60_000 });
    expect(t.snapshot()).toEqual({
      ok: true,
      rssMb: 100,
      heapUsedMb: 10,
      externalMb: 2,
      peakRssMb: 100,
      baselineRssMb: null,
      growthPct: 0,
    });
  });

  test("takes the baseline when the N-th request completes and measures growth from it", () => {
    let rss = 100;
    const t = new MemoryTracker({ read: () => reading(rss), now: () => 0, baselineAfterRequests: 3, baselineAfterMs: 60_000 });
    t.requestCompleted();
    rss = 150;
    t.requestCompleted();
    t.requestCompleted(); // third request: baseline = 150
    rss = 165;
    const s = t.snapshot();
    expect(s.ok && s.baselineRssMb).toBe(150);
    expect(s.ok && s.growthPct).toBe(10);
  });

  test("takes the baseline after T seconds of uptime when traffic is light", () => {
    let now = 0;
    let rss = 100;
    const t = new MemoryTracker({ read: () => reading(rss), now: () => now, baselineAfterRequests: 100, baselineAfterMs: 60_000 });
    now = 60_000;
    rss = 200;
    expect(t.snapshot()).toMatchObject({ baselineRssMb: 200, growthPct: 0 });
    rss = 180;
    expect(t.snapshot()).toMatchObject({ baselineRssMb: 200, growthPct: -10 });
  });

  test("the peak is the highest RSS seen or reported by the OS", () => {
    let r = reading(100);
    const t = new MemoryTracker({ read: () => r, now: () => 0 });
    r = reading(300);
    t.snapshot();
    r = reading(120);
    expect(t.snapshot()).toMatchObject({ rssMb: 120, peakRssMb: 300 });
    r = reading(120, { peakRssBytes: 400 * MiB });
    expect(t.snapshot()).toMatchObject({ peakRssMb: 400 });
  });

  test("a reader that throws gives ok: false and never throws itself", () => {
    const t = new MemoryTracker({
      read: () => {
        throw new Error("EACCES /proc/self/status");
      },
      now: () => 0,
      baselineAfterRequests: 1,
    });
    expect(() => t.requestCompleted()).not.toThrow();
    expect(t.snapshot()).toEqual({ ok: false });
  });

  test("a reader that returns garbage counts as a failed reading", () => {
    const t = new MemoryTracker({ read: () => ({ rssBytes: Number.NaN, heapUsedBytes: 1, externalBytes: 1 }), now: () => 0 });
    expect(t.snapshot()).toEqual({ ok: false });
  });
});

describe("processMemoryReader", () => {
  test("reads this process's memory as positive byte counts", () => {
    const r = processMemoryReader();
    expect(r.rssBytes).toBeGreaterThan(0);
    expect(r.heapUsedBytes).toBeGreaterThan(0);
    expect(r.externalBytes).toBeGreaterThanOrEqual(0);
    expect(r.peakRssBytes).toBeGreaterThanOrEqual(r.rssBytes * 0.5);
  });
});
