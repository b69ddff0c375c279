import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exactPercentile } from "../../src/harness/stats/exact.js";
import { EXACT_LIMIT, LatencyHistogram, MAX_RELATIVE_ERROR } from "../../src/harness/stats/histogram.js";
import { WindowedHistogram } from "../../src/harness/stats/windowed-histogram.js";
import { LatencyWindow } from "../../src/observability/latency-window.js";

/**
 * The reference, straight from the definition and independent of the code under test (no rank
 * formula, no floating-point percent): the smallest sample v such that at least p% of the samples
 * are <= v. p is given in tenths of a percent (p99.9 = 999), so the test is integer arithmetic:
 * count(x <= v) * 1000 >= perMille * n.
 */
function reference(values: readonly number[], perMille: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  for (let i = 0; i < n; i++) {
    // Skip to the last copy of this value: count(x <= v) is then i + 1.
    if (i + 1 < n && sorted[i + 1] === sorted[i]) continue;
    if ((i + 1) * 1000 >= perMille * n) return sorted[i]!;
  }
  throw new Error("unreachable: p100 is the largest sample");
}

const value = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 1_000 }),
  fc.double({ min: 0, max: 10, noNaN: true }),
  fc.double({ min: 0, max: 1e9, noNaN: true }),
  fc.integer({ min: 100_000_000, max: 1_000_000_000 }),
);
/** A single sample, small arrays, heavy duplicates of arbitrary (not only zero) values, and past the exact limit. */
const samples = fc.oneof(
  value.map((v) => [v]),
  fc.array(value, { minLength: 1, maxLength: 60 }),
  fc.array(value, { minLength: 1, maxLength: 4 }).chain((pool) => fc.array(fc.constantFrom(...pool), { minLength: 2, maxLength: 300 })),
  fc.array(value, { minLength: 1, maxLength: 6 }).chain((pool) => fc.array(fc.constantFrom(...pool), { minLength: EXACT_LIMIT + 1, maxLength: EXACT_LIMIT * 2 })),
  fc.array(value, { minLength: EXACT_LIMIT + 1, maxLength: EXACT_LIMIT * 2 }),
);
const NAMED = [0, 500, 900, 950, 990, 999, 1000];
const perMille = fc.oneof(fc.constantFrom(...NAMED), fc.integer({ min: 0, max: 1000 }));

/** The stated error: relative error of the buckets, plus half a microsecond of rounding and a float ulp. */
function withinStatedError(reported: number, exact: number, roundingMs: number): boolean {
  return Math.abs(reported - exact) <= MAX_RELATIVE_ERROR * exact + roundingMs + 1e-12 * exact;
}

describe("the reference itself", () => {
  test("matches hand-computed nearest-rank percentiles", () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(reference(ten, 500)).toBe(5);
    expect(reference(ten, 900)).toBe(9);
    expect(reference(ten, 999)).toBe(10);
    expect(reference(ten, 0)).toBe(1);
    expect(reference([7, 7, 7, 1], 500)).toBe(7);
    expect(reference([7, 7, 7, 1], 250)).toBe(1);
  });
});

describe("exactPercentile", () => {
  test("equals the definition's smallest sample with at least p% at or below it, p90 and p99.9 included", () => {
    fc.assert(
      fc.property(samples, perMille, (values, pm) => {
        const sorted = [...values].sort((a, b) => a - b);
        expect(exactPercentile(sorted, pm / 10)).toBe(reference(values, pm));
      }),
      { numRuns: 300 },
    );
  });
});

describe("the /v1/metrics latency window (LatencyWindow)", () => {
  test("p50/p95/p99 are within the stated error of the reference, for duplicates, a single sample and values up to 1e9 ms", () => {
    fc.assert(
      fc.property(samples, (values) => {
        const w = new LatencyWindow({ windowMs: 60_000, now: () => 0 });
        for (const v of values) w.record(v);
        const s = w.summary();
        expect(s.count).toBe(values.length);
        // The JSON rounds to the microsecond: half a microsecond more.
        expect(withinStatedError(s.p50, reference(values, 500), 0.0005)).toBe(true);
        expect(withinStatedError(s.p95, reference(values, 950), 0.0005)).toBe(true);
        expect(withinStatedError(s.p99, reference(values, 990), 0.0005)).toBe(true);
      }),
      { numRuns: 120 },
    );
  });

  test("its windowed histogram's p90 and p99.9 are within the stated error too", () => {
    fc.assert(
      fc.property(samples, (values) => {
        const w = new WindowedHistogram({ windowMs: 60_000, slots: 12, now: () => 0 });
        for (const v of values) w.record(v);
        const h = w.snapshot();
        for (const pm of [900, 999]) expect(withinStatedError(h.percentile(pm / 10)!, reference(values, pm), 0)).toBe(true);
      }),
      { numRuns: 80 },
    );
  });
});

describe("the harness's LatencyHistogram summary", () => {
  test("p50, p90, p95, p99 and p99.9 are within the stated error of the reference", () => {
    fc.assert(
      fc.property(samples, (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const s = h.summary();
        const pairs: Array<[number | null, number]> = [[s.p50, 500], [s.p90, 900], [s.p95, 950], [s.p99, 990], [s.p999, 999]];
        for (const [got, pm] of pairs) expect(withinStatedError(got!, reference(values, pm), 0)).toBe(true);
        // Exact (not estimated) while the samples fit.
        if (values.length <= EXACT_LIMIT) for (const [got, pm] of pairs) expect(got).toBe(reference(values, pm));
      }),
      { numRuns: 80 },
    );
  });
});
