import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exactPercentile } from "../../src/harness/stats/exact.js";

const sample = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 1_000 }),
  fc.double({ min: 0, max: 1e9, noNaN: true }),
);
const percentile = fc.oneof(fc.constantFrom(0, 50, 90, 95, 99, 99.9, 100), fc.double({ min: 0, max: 100, noNaN: true }));

describe("exactPercentile", () => {
  test("returns the smallest sample with at least p% of samples at or below it", () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 300 }), percentile, (values, p) => {
        const sorted = [...values].sort((a, b) => a - b);
        const r = exactPercentile(sorted, p)!;
        expect(sorted).toContain(r);
        const atOrBelow = sorted.filter((v) => v <= r).length;
        const below = sorted.filter((v) => v < r).length;
        const needed = Math.max(1, (p / 100) * sorted.length);
        expect(atOrBelow).toBeGreaterThanOrEqual(needed - 1e-9 * needed);
        expect(below).toBeLessThan(needed + 1e-9 * needed);
      }),
    );
  });

  test("is monotone in p", () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 200 }), percentile, percentile, (values, p, q) => {
        const sorted = [...values].sort((a, b) => a - b);
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        expect(exactPercentile(sorted, lo)!).toBeLessThanOrEqual(exactPercentile(sorted, hi)!);
      }),
    );
  });
});
