import { describe, expect, test } from "vitest";
import { exactPercentile, nearestRank } from "../../src/harness/stats/exact.js";

describe("exact", () => {
  test("nearestRank is ceil(p/100 * n) clamped to 1..n", () => {
    expect(nearestRank(0, 10)).toBe(1);
    expect(nearestRank(50, 10)).toBe(5);
    expect(nearestRank(51, 10)).toBe(6);
    expect(nearestRank(100, 10)).toBe(10);
    expect(nearestRank(99.9, 1000)).toBe(999);
  });

  test("exactPercentile returns the nearest-rank value of a sorted array", () => {
    const sorted = [15, 20, 35, 40, 50];
    expect(exactPercentile(sorted, 5)).toBe(15);
    expect(exactPercentile(sorted, 30)).toBe(20);
    expect(exactPercentile(sorted, 40)).toBe(20);
    expect(exactPercentile(sorted, 50)).toBe(35);
    expect(exactPercentile(sorted, 100)).toBe(50);
    expect(exactPercentile(sorted, 0)).toBe(15);
  });

  test("exactPercentile of an empty array is null", () => {
    expect(exactPercentile([], 50)).toBeNull();
  });

  test("exactPercentile rejects p outside 0..100 or NaN", () => {
    expect(() => exactPercentile([1], -1)).toThrow(RangeError);
    expect(() => exactPercentile([1], 100.5)).toThrow(RangeError);
    expect(() => exactPercentile([1], Number.NaN)).toThrow(RangeError);
  });
});
