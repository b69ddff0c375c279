import { describe, expect, test } from "vitest";
import {
  ESTIMATOR,
  EXACT_LIMIT,
  LatencyHistogram,
  MAX_RELATIVE_ERROR,
} from "../../src/harness/stats/histogram.js";

function filled(values: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

describe("histogram", () => {
  test("an empty histogram reports count 0 and null statistics", () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.min).toBeNull();
    expect(h.max).toBeNull();
    expect(h.mean).toBeNull();
    expect(h.stddev).toBeNull();
    expect(h.percentile(50)).toBeNull();
    expect(h.summary()).toEqual({
      count: 0, min: null, max: null, mean: null, stddev: null,
      p50: null, p90: null, p95: null, p99: null, p999: null,
    });
  });

  test("record rejects negative, NaN and infinite values with a RangeError", () => {
    const h = new LatencyHistogram();
    expect(() => h.record(-1)).toThrow(RangeError);
    expect(() => h.record(Number.NaN)).toThrow(RangeError);
    expect(() => h.record(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(h.count).toBe(0);
  });

  test("zero is a valid sample", () => {
    const h = filled([0, 0, 5]);
    expect(h.min).toBe(0);
    expect(h.percentile(50)).toBe(0);
    expect(h.percentile(100)).toBe(5);
  });

  test("small counts give exact nearest-rank percentiles", () => {
    const h = filled([50, 15, 40, 20, 35]);
    expect(h.isExact).toBe(true);
    expect(h.percentile(30)).toBe(20);
    expect(h.percentile(50)).toBe(35);
    expect(h.percentile(100)).toBe(50);
    expect(h.min).toBe(15);
    expect(h.max).toBe(50);
    expect(h.mean).toBeCloseTo(32, 12);
    // population standard deviation
    expect(h.stddev).toBeCloseTo(Math.sqrt(((17 ** 2) + 12 ** 2 + 3 ** 2 + 8 ** 2 + 18 ** 2) / 5), 9);
  });

  test("percentile rejects p outside 0..100", () => {
    const h = filled([1]);
    expect(() => h.percentile(101)).toThrow(RangeError);
    expect(() => h.percentile(-0.1)).toThrow(RangeError);
  });

  test("switches to buckets past the exact limit and stays within the stated relative error", () => {
    const values = Array.from({ length: EXACT_LIMIT + 500 }, (_, i) => 1 + i * 0.37);
    const h = filled(values);
    expect(h.isExact).toBe(false);
    expect(h.count).toBe(values.length);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
      const exact = sorted[rank - 1]!;
      const approx = h.percentile(p)!;
      expect(Math.abs(approx - exact) / exact).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
    }
    expect(h.min).toBe(1);
    expect(h.max).toBe(sorted[sorted.length - 1]);
    expect(h.percentile(0)).toBe(1);
    expect(h.percentile(100)).toBe(sorted[sorted.length - 1]);
  });

  test("documents its estimator and a relative error of at most 1%", () => {
    expect(ESTIMATOR).toMatch(/nearest-rank/);
    expect(ESTIMATOR).toMatch(/log-linear/);
    expect(MAX_RELATIVE_ERROR).toBeGreaterThan(0);
    expect(MAX_RELATIVE_ERROR).toBeLessThanOrEqual(0.01);
  });

  test("merge combines counts, extremes and percentiles", () => {
    const a = filled([1, 2, 3]);
    const b = filled([10, 20]);
    a.merge(b);
    expect(a.count).toBe(5);
    expect(a.min).toBe(1);
    expect(a.max).toBe(20);
    expect(a.percentile(80)).toBe(10);
    expect(b.count).toBe(2);
  });

  test("merging an empty histogram changes nothing", () => {
    const a = filled([3, 4]);
    a.merge(new LatencyHistogram());
    expect(a.summary()).toEqual(filled([3, 4]).summary());
  });

  test("a JSON round trip preserves the summary in exact and bucket mode", () => {
    for (const n of [3, EXACT_LIMIT + 10]) {
      const h = filled(Array.from({ length: n }, (_, i) => (i * 7919) % 1000 + 0.5));
      const back = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
      expect(back.summary()).toEqual(h.summary());
    }
  });

  test("the bucket JSON is compact: a few bytes per distinct bucket, not per sample", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100_000; i++) h.record(100 + (i % 50));
    expect(JSON.stringify(h.toJSON()).length).toBeLessThan(1000);
  });

  test("fromJSON rejects malformed input with a TypeError", () => {
    expect(() => LatencyHistogram.fromJSON({})).toThrow(TypeError);
    expect(() => LatencyHistogram.fromJSON(null)).toThrow(TypeError);
    expect(() => LatencyHistogram.fromJSON({ v: 1, exact: [-1] })).toThrow(TypeError);
  });

  test("reset empties the histogram", () => {
    const h = filled([1, 2, 3]);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBeNull();
  });
});
