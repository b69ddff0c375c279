import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exactPercentile } from "../../src/harness/stats/exact.js";
import { EXACT_LIMIT, LatencyHistogram, MAX_RELATIVE_ERROR } from "../../src/harness/stats/histogram.js";

const value = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 1_000_000_000 }),
  fc.double({ min: 0, max: 1e9, noNaN: true }),
  fc.double({ min: 0, max: 10, noNaN: true }),
);
/** Arrays from one sample to well past the exact limit, with many duplicates. */
const samples = fc.oneof(
  fc.array(value, { minLength: 1, maxLength: 50 }),
  fc.array(value, { minLength: 1, maxLength: 20 }).chain((pool) =>
    fc.array(fc.constantFrom(...pool), { minLength: EXACT_LIMIT - 5, maxLength: EXACT_LIMIT * 3 }),
  ),
  fc.array(value, { minLength: EXACT_LIMIT + 1, maxLength: EXACT_LIMIT * 2 }),
);

function record(values: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

function closeTo(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

const PS = [0, 50, 90, 95, 99, 99.9, 100];

describe("LatencyHistogram", () => {
  test("p50/p95/p99 are within the stated relative error of exact nearest-rank percentiles", () => {
    fc.assert(
      fc.property(samples, (values) => {
        const h = record(values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const p of [50, 95, 99]) {
          const exact = exactPercentile(sorted, p)!;
          const approx = h.percentile(p)!;
          expect(Math.abs(approx - exact)).toBeLessThanOrEqual(MAX_RELATIVE_ERROR * exact);
        }
        expect(h.count).toBe(values.length);
        expect(h.min).toBe(sorted[0]);
        expect(h.max).toBe(sorted[sorted.length - 1]);
      }),
      { numRuns: 60 },
    );
  });

  test("merge(a, b) equals recording all samples into one histogram", () => {
    fc.assert(
      fc.property(samples, samples, (a, b) => {
        const merged = record(a).merge(record(b));
        const direct = record([...a, ...b]);
        for (const p of PS) expect(merged.percentile(p)).toBe(direct.percentile(p));
        expect(merged.count).toBe(direct.count);
        expect(merged.min).toBe(direct.min);
        expect(merged.max).toBe(direct.max);
        expect(merged.isExact).toBe(direct.isExact);
        expect(closeTo(merged.mean, direct.mean)).toBe(true);
        expect(closeTo(merged.stddev, direct.stddev) || Math.abs(merged.stddev! - direct.stddev!) < 1e-6 * direct.max!).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  test("a JSON round trip gives an identical summary and identical further behaviour", () => {
    fc.assert(
      fc.property(samples, fc.array(value, { maxLength: 20 }), (values, more) => {
        const h = record(values);
        const back = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(h)));
        expect(back.summary()).toEqual(h.summary());
        for (const v of more) { h.record(v); back.record(v); }
        expect(back.summary()).toEqual(h.summary());
      }),
      { numRuns: 40 },
    );
  });

  test("percentiles are monotone in p", () => {
    fc.assert(
      fc.property(samples, (values) => {
        const h = record(values);
        const got = PS.map((p) => h.percentile(p)!);
        for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThanOrEqual(got[i - 1]!);
      }),
      { numRuns: 40 },
    );
  });
});
