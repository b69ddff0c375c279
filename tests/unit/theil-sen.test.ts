import { describe, expect, test } from "vitest";
import { theilSen } from "../../src/harness/soak/theil-sen.js";
import { gaussian, mulberry32 } from "../../src/harness/soak/synthetic.js";
import { normalQuantile } from "../../src/harness/soak/stats-math.js";

interface Pt {
  x: number;
  y: number;
}

function line(n: number, slope: number, intercept: number): Pt[] {
  return Array.from({ length: n }, (_, i) => ({ x: i, y: intercept + slope * i }));
}

function leastSquaresSlope(points: Pt[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxy / sxx;
}

function noisyLine(seed: number, n: number, slope: number, sigma: number): Pt[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({ x: i, y: 10 + slope * i + sigma * gaussian(rand) }));
}

describe("theil-sen", () => {
  test("recovers slope and intercept of an exact line", () => {
    const fit = theilSen(line(25, 3, -7));
    expect(fit.slope).toBeCloseTo(3, 12);
    expect(fit.intercept).toBeCloseTo(-7, 12);
    expect(fit.slopeLow).toBeCloseTo(3, 12);
    expect(fit.slopeHigh).toBeCloseTo(3, 12);
    expect(fit.n).toBe(25);
  });

  test("ignores a minority of gross outliers that drag least squares away", () => {
    const pts = line(60, 2, 5);
    for (const i of [50, 53, 56, 59]) pts[i] = { x: i, y: 5000 };
    const fit = theilSen(pts);
    expect(Math.abs(fit.slope - 2)).toBeLessThan(0.05);
    expect(Math.abs(leastSquaresSlope(pts) - 2)).toBeGreaterThan(5);
  });

  test("gives a slope confidence interval that contains zero for a flat noisy series", () => {
    const pts = noisyLine(7, 200, 0, 3);
    const fit = theilSen(pts, { confidence: 0.95 });
    expect(fit.slopeLow).toBeLessThan(0);
    expect(fit.slopeHigh).toBeGreaterThan(0);
    expect(fit.slopeLow).toBeLessThanOrEqual(fit.slope);
    expect(fit.slope).toBeLessThanOrEqual(fit.slopeHigh);
  });

  test("covers the true slope in at least 90% of seeded noisy trials at 95% confidence", () => {
    const trials = 300;
    let covered = 0;
    let totalWidth = 0;
    for (let seed = 1; seed <= trials; seed++) {
      const fit = theilSen(noisyLine(seed, 40, 0.25, 2), { confidence: 0.95 });
      if (fit.slopeLow <= 0.25 && 0.25 <= fit.slopeHigh) covered++;
      totalWidth += fit.slopeHigh - fit.slopeLow;
    }
    expect(covered / trials).toBeGreaterThanOrEqual(0.9);
    // not trivially wide: the mean width stays well below the slope itself
    expect(totalWidth / trials).toBeLessThan(0.25);
  });

  test("excludes zero from the interval when a real slope dominates the noise", () => {
    const fit = theilSen(noisyLine(11, 120, 0.25, 2));
    expect(fit.slopeLow).toBeGreaterThan(0);
  });

  test("a higher confidence gives an interval at least as wide", () => {
    const pts = noisyLine(3, 80, 0.1, 2);
    const narrow = theilSen(pts, { confidence: 0.8 });
    const wide = theilSen(pts, { confidence: 0.99 });
    expect(wide.slopeLow).toBeLessThanOrEqual(narrow.slopeLow);
    expect(wide.slopeHigh).toBeGreaterThanOrEqual(narrow.slopeHigh);
    expect(wide.slopeHigh - wide.slopeLow).toBeGreaterThan(narrow.slopeHigh - narrow.slopeLow);
  });

  test("skips pairs with equal x and counts only pairs with distinct x", () => {
    const pts: Pt[] = [];
    for (let i = 0; i < 10; i++) {
      pts.push({ x: i, y: 2 * i }, { x: i, y: 2 * i + 1 });
    }
    const fit = theilSen(pts);
    expect(fit.pairs).toBe((20 * 19) / 2 - 10);
    expect(Math.abs(fit.slope - 2)).toBeLessThan(0.2);
  });

  test("the bisection method matches the all-pairs method on the same data", () => {
    const pts = noisyLine(5, 301, 0.07, 1.5);
    pts.push({ x: 12, y: 40 }, { x: 12, y: 41 }, { x: 12, y: 41 });
    const exact = theilSen(pts, { method: "pairs" });
    const bisect = theilSen(pts, { method: "bisection" });
    expect(exact.method).toBe("pairs");
    expect(bisect.method).toBe("bisection");
    for (const k of ["slope", "slopeLow", "slopeHigh", "intercept"] as const) {
      expect(bisect[k]).toBeCloseTo(exact[k], 9);
    }
    expect(bisect.pairs).toBe(exact.pairs);
  });

  test("uses the bounded-memory bisection method automatically for long series", () => {
    const pts = noisyLine(9, 2100, 0.002, 1);
    const fit = theilSen(pts);
    expect(fit.method).toBe("bisection");
    expect(fit.pairs).toBe((2100 * 2099) / 2);
    expect(fit.slopeLow).toBeGreaterThan(0);
    expect(fit.slopeLow).toBeLessThanOrEqual(fit.slope);
    expect(fit.slopeHigh).toBeGreaterThanOrEqual(fit.slope);
    expect(fit.slopeHigh - fit.slopeLow).toBeLessThan(0.001);
    expect(Math.abs(fit.slope - 0.002)).toBeLessThan(0.0005);
  });

  test("works on memory-sized values with millisecond x", () => {
    const pts = Array.from({ length: 240 }, (_, i) => ({ x: 1.7e12 + i * 60_000, y: 5e8 + i * 1000 }));
    const fit = theilSen(pts);
    expect(fit.slope).toBeCloseTo(1000 / 60_000, 10);
    expect(fit.intercept + fit.slope * pts[0]!.x).toBeCloseTo(5e8, 0);
  });

  test("uses the standard normal quantile for the interval width", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 6);
  });

  test("rejects input without two distinct x values", () => {
    expect(() => theilSen([{ x: 1, y: 1 }])).toThrow(RangeError);
    expect(() => theilSen([{ x: 1, y: 1 }, { x: 1, y: 2 }])).toThrow(RangeError);
    expect(() => theilSen(line(5, 1, 0), { confidence: 1 })).toThrow(RangeError);
  });

  test("ignores points with non-finite coordinates", () => {
    const pts = line(20, 1, 0);
    pts.push({ x: Number.NaN, y: 4 }, { x: 3, y: Number.POSITIVE_INFINITY });
    const fit = theilSen(pts);
    expect(fit.n).toBe(20);
    expect(fit.slope).toBeCloseTo(1, 12);
  });
});
