import { describe, expect, test } from "vitest";
import { memoryGrowth } from "../../src/harness/runner/memory-growth.js";

const MB = 1024 * 1024;

describe("memoryGrowth", () => {
  test("projects a steady leak's slope over the sampled span", () => {
    const samples = Array.from({ length: 11 }, (_, i) => ({ tMs: i * 1000, bytes: 100 * MB + i * 3 * MB }));
    const g = memoryGrowth(samples);
    expect(g.growthPct).toBeCloseTo(30, 6);
    expect(g.startBytes).toBeCloseTo(100 * MB, 0);
    expect(g.peakBytes).toBe(130 * MB);
  });

  test("is not fooled by one spike the way a first/last ratio is", () => {
    const samples = Array.from({ length: 20 }, (_, i) => ({ tMs: i * 100, bytes: 100 * MB + (i === 19 ? 60 * MB : (i % 2) * MB) }));
    const g = memoryGrowth(samples);
    expect(Math.abs(g.growthPct ?? 99)).toBeLessThan(5);
  });

  test("is unavailable with fewer than three samples", () => {
    expect(memoryGrowth([{ tMs: 0, bytes: 1 }, { tMs: 1, bytes: 2 }]).growthPct).toBeNull();
  });
});
