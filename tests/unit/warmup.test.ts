import { describe, expect, test } from "vitest";
import { detectWarmup } from "../../src/harness/soak/warmup.js";
import { theilSen } from "../../src/harness/soak/theil-sen.js";
import { gaussian, mulberry32 } from "../../src/harness/soak/synthetic.js";

type Pt = { x: number; y: number };

function series(n: number, f: (x: number) => number, sigma: number, seed: number): Pt[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, x) => ({ x, y: f(x) + sigma * gaussian(rand) }));
}

const kneeAt100 = (x: number): number => (x < 100 ? 10 * x : 1000);

describe("warmup", () => {
  test("finds the end of a fast rise near the knee before a plateau", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const w = detectWarmup(series(600, kneeAt100, 5, seed));
      expect(w.endIndex).toBeGreaterThanOrEqual(95);
      expect(w.endIndex).toBeLessThanOrEqual(125);
      expect(w.endX).toBe(w.endIndex);
      expect(w.method).toBe("mser-trend");
      expect(w.capped).toBe(false);
    }
  });

  test("finds the end of an exponential approach once it sinks into the noise", () => {
    const w = detectWarmup(series(900, (x) => 1000 - 800 * Math.exp(-x / 30), 5, 9));
    expect(w.endIndex).toBeGreaterThanOrEqual(60);
    expect(w.endIndex).toBeLessThanOrEqual(220);
  });

  test("ends warm-up exactly at the minimum on a constant series", () => {
    const flat = Array.from({ length: 300 }, (_, i) => ({ x: i * 1000, y: 4e8 }));
    const w = detectWarmup(flat, { minWarmupX: 60_000 });
    expect(w.endIndex).toBe(60);
    expect(w.endX).toBe(60_000);
  });

  test("ends warm-up at or just after the minimum on flat noisy series", () => {
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const w = detectWarmup(series(600, () => 500, 10, seed), { minWarmupX: 30 });
      expect(w.endIndex).toBeGreaterThanOrEqual(30);
      expect(w.endIndex).toBeLessThanOrEqual(30 + 10);
    }
  });

  test("does not swallow a steady linear leak from the start as warm-up", () => {
    for (const seed of [21, 22, 23]) {
      const pts = series(600, (x) => 1000 + 0.5 * x, 20, seed);
      const w = detectWarmup(pts, { minWarmupX: 10 });
      expect(w.endIndex).toBeLessThanOrEqual(40);
      const fit = theilSen(pts.slice(w.endIndex));
      expect(fit.slopeLow).toBeGreaterThan(0);
      expect(Math.abs(fit.slope - 0.5)).toBeLessThan(0.05);
    }
  });

  test("keeps the leak after a warm-up rise: the end lands at the knee, not at the cap", () => {
    const pts = series(600, (x) => (x < 100 ? 10 * x : 1000 + 0.5 * (x - 100)), 5, 31);
    const w = detectWarmup(pts);
    expect(w.endIndex).toBeGreaterThanOrEqual(95);
    expect(w.endIndex).toBeLessThanOrEqual(125);
  });

  test("the classic level-only MSER would swallow a linear leak up to the cap", () => {
    const pts = series(600, (x) => 1000 + 0.5 * x, 20, 41);
    const w = detectWarmup(pts, { trend: false });
    expect(w.method).toBe("mser");
    expect(w.endIndex).toBeGreaterThan(250);
  });

  test("never discards more than the maximum fraction and says so when capped", () => {
    const pts = series(400, (x) => 1000 - 800 * Math.exp(-x / 150), 2, 51);
    const w = detectWarmup(pts, { maxFraction: 0.5 });
    expect(w.endIndex).toBeLessThanOrEqual(200);
    expect(w.capped).toBe(true);
    expect(w.reason).toMatch(/cap/);
    const w2 = detectWarmup(pts, { maxFraction: 0.25 });
    expect(w2.endIndex).toBeLessThanOrEqual(100);
    expect(w2.capped).toBe(true);
  });

  test("treats a linear rise that later flattens as a trend, not as warm-up", () => {
    // A leak that stops is still growth: the line fit keeps it, the verdict sees the slope.
    const pts = series(400, (x) => (x < 320 ? 3 * x : 960), 2, 52);
    const w = detectWarmup(pts);
    expect(w.endIndex).toBeLessThanOrEqual(40);
  });

  test("a zero tolerance picks the exact argmin, which may wander further on noise", () => {
    const pts = series(600, () => 500, 10, 7);
    const strict = detectWarmup(pts, { tolerance: 0 });
    const loose = detectWarmup(pts);
    expect(loose.endIndex).toBeLessThanOrEqual(strict.endIndex);
    expect(() => detectWarmup(pts, { tolerance: -1 })).toThrow(RangeError);
  });

  test("falls back to the minimum warm-up when too few samples remain", () => {
    const w = detectWarmup(series(12, kneeAt100, 1, 61), { minWarmupX: 3 });
    expect(w.method).toBe("minimum");
    expect(w.endIndex).toBe(3);
  });

  test("reports the whole series as warm-up when the minimum exceeds its span", () => {
    const w = detectWarmup(series(10, () => 1, 0, 1), { minWarmupX: 100 });
    expect(w.endIndex).toBe(10);
    expect(w.method).toBe("minimum");
  });

  test("honours a custom batch size", () => {
    const w = detectWarmup(series(600, kneeAt100, 5, 71), { batchSize: 10 });
    expect(w.batchSize).toBe(10);
    expect(w.endIndex % 10).toBe(0);
    expect(w.endIndex).toBeGreaterThanOrEqual(90);
    expect(w.endIndex).toBeLessThanOrEqual(130);
  });

  test("rejects an empty series and invalid options", () => {
    expect(() => detectWarmup([])).toThrow(RangeError);
    expect(() => detectWarmup(series(50, () => 1, 1, 1), { maxFraction: 1.5 })).toThrow(RangeError);
    expect(() => detectWarmup(series(50, () => 1, 1, 1), { batchSize: 0 })).toThrow(RangeError);
  });
});
