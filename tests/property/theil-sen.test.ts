import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { theilSen } from "../../src/harness/soak/theil-sen.js";

const series = fc
  .array(fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1e6, max: 1e6 })), {
    minLength: 2,
    maxLength: 40,
  })
  .filter((pts) => new Set(pts.map(([x]) => x)).size >= 2)
  .map((pts) => pts.map(([x, y]) => ({ x, y })));

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe("theil-sen", () => {
  test("slope and interval are unchanged by adding a constant to y", () => {
    fc.assert(
      fc.property(series, fc.integer({ min: -1e7, max: 1e7 }), (pts, c) => {
        const a = theilSen(pts);
        const b = theilSen(pts.map((p) => ({ x: p.x, y: p.y + c })));
        expect(close(a.slope, b.slope)).toBe(true);
        expect(close(a.slopeLow, b.slopeLow)).toBe(true);
        expect(close(a.slopeHigh, b.slopeHigh)).toBe(true);
        expect(close(a.intercept + c, b.intercept)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  test("slope and interval scale with y", () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 1000 }), (pts, k) => {
        const a = theilSen(pts);
        const b = theilSen(pts.map((p) => ({ x: p.x, y: p.y * k })));
        expect(close(a.slope * k, b.slope)).toBe(true);
        expect(close(a.slopeLow * k, b.slopeLow)).toBe(true);
        expect(close(a.slopeHigh * k, b.slopeHigh)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  test("the interval is ordered and the point estimate lies inside it", () => {
    fc.assert(
      fc.property(series, fc.double({ min: 0.5, max: 0.999, noNaN: true }), (pts, confidence) => {
        const fit = theilSen(pts, { confidence });
        expect(fit.slopeLow).toBeLessThanOrEqual(fit.slope);
        expect(fit.slope).toBeLessThanOrEqual(fit.slopeHigh);
      }),
      { numRuns: 150 },
    );
  });

  test("the bisection method agrees with the all-pairs method", () => {
    fc.assert(
      fc.property(series, (pts) => {
        const a = theilSen(pts, { method: "pairs" });
        const b = theilSen(pts, { method: "bisection" });
        expect(close(a.slope, b.slope)).toBe(true);
        expect(close(a.slopeLow, b.slopeLow)).toBe(true);
        expect(close(a.slopeHigh, b.slopeHigh)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
