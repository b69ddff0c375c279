import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { detectWarmup } from "../../src/harness/soak/warmup.js";

const ys = fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 200 });

describe("warmup", () => {
  test("the end lies between the minimum warm-up and the maximum fraction of the run", () => {
    fc.assert(
      fc.property(ys, fc.integer({ min: 0, max: 50 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (values, minX, maxFraction) => {
        const pts = values.map((y, x) => ({ x, y }));
        const w = detectWarmup(pts, { minWarmupX: minX, maxFraction });
        const minIndex = Math.min(minX, pts.length);
        expect(w.endIndex).toBeGreaterThanOrEqual(minIndex);
        expect(w.endIndex).toBeLessThanOrEqual(Math.max(minIndex, Math.floor(maxFraction * pts.length)));
        expect(w.endX).toBe(pts[Math.min(w.endIndex, pts.length - 1)]!.x);
      }),
      { numRuns: 300 },
    );
  });

  test("the end is invariant to rescaling x and y by powers of two", () => {
    fc.assert(
      fc.property(ys, fc.integer({ min: -20, max: 20 }), fc.integer({ min: -20, max: 20 }), (values, ex, ey) => {
        const pts = values.map((y, x) => ({ x, y }));
        const scaled = pts.map((p) => ({ x: p.x * 2 ** ex, y: p.y * 2 ** ey }));
        expect(detectWarmup(scaled).endIndex).toBe(detectWarmup(pts).endIndex);
      }),
      { numRuns: 200 },
    );
  });
});
