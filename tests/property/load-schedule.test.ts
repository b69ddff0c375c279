import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { arrivalOffsets } from "../../src/harness/load/schedule.js";

describe("arrivalOffsets", () => {
  test("gives count offsets that never decrease, starting at 0", () => {
    fc.assert(fc.property(fc.double({ min: 0.1, max: 5000, noNaN: true }), fc.constantFrom("constant", "poisson") as fc.Arbitrary<"constant" | "poisson">, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 500 }),
      (rate, arrival, seed, count) => {
        const o = arrivalOffsets({ rate, arrival, seed, count, durationMs: null });
        expect(o).toHaveLength(count);
        expect(o[0]).toBe(0);
        expect(o.every((t, i) => i === 0 || t >= o[i - 1]!)).toBe(true);
      }));
  });

  test("keeps every offset inside the duration", () => {
    fc.assert(fc.property(fc.double({ min: 1, max: 2000, noNaN: true }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 1000 }),
      (rate, durationMs, seed) => {
        const o = arrivalOffsets({ rate, arrival: "poisson", seed, count: null, durationMs });
        expect(o.every((t) => t < durationMs)).toBe(true);
      }));
  });

  test("spaces constant arrivals exactly 1000 / rate apart", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 2, max: 100 }), (rate, count) => {
      const o = arrivalOffsets({ rate, arrival: "constant", seed: 1, count, durationMs: null });
      expect(o.every((t, i) => i === 0 || Math.abs(t - o[i - 1]! - 1000 / rate) < 1e-6)).toBe(true);
    }));
  });

  test("the same seed gives the same poisson schedule and its mean gap is near 1000 / rate", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
      const a = arrivalOffsets({ rate: 50, arrival: "poisson", seed, count: 4000, durationMs: null });
      expect(arrivalOffsets({ rate: 50, arrival: "poisson", seed, count: 4000, durationMs: null })).toEqual(a);
      const meanGap = a[a.length - 1]! / (a.length - 1);
      expect(meanGap).toBeGreaterThan(20 * 0.9);
      expect(meanGap).toBeLessThan(20 * 1.1);
    }), { numRuns: 20 });
  });
});
