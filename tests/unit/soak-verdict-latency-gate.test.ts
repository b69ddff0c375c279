import { describe, expect, test } from "vitest";
import { judgeWindows, latencyWindowsFrom } from "../../src/harness/soak/latency-gate.js";
import type { LatencyWindowStats } from "../../src/harness/soak/latency-gate.js";
import { createWindowAggregator } from "../../src/harness/soak/window.js";

const good: LatencyWindowStats = { p50: 100, p95: 150, count: 500 };
const bad: LatencyWindowStats = { p50: 100, p95: 450, count: 500 };
const empty: LatencyWindowStats = { p50: null, p95: null, count: 0 };

describe("latency-gate", () => {
  test("passes when every post-warm-up window keeps p95 under twice p50", () => {
    const r = judgeWindows([good, good, good, good]);
    expect(r.verdict).toBe("pass");
    expect(r.badWindows).toEqual([]);
    expect(r.judgedWindows).toBe(4);
  });

  test("tolerates up to K consecutive bad windows but lists them", () => {
    const r = judgeWindows([good, bad, bad, good, bad], { maxConsecutiveBad: 2 });
    expect(r.verdict).toBe("pass");
    expect(r.badWindows.map((w) => w.index)).toEqual([1, 2, 4]);
    expect(r.badWindows[0]).toEqual({ index: 1, p50: 100, p95: 450, ratio: 4.5 });
    expect(r.longestBadRun).toEqual({ start: 1, length: 2 });
  });

  test("fails when more than K consecutive windows are bad", () => {
    const r = judgeWindows([good, bad, bad, bad, good], { maxConsecutiveBad: 2 });
    expect(r.verdict).toBe("fail");
    expect(r.longestBadRun).toEqual({ start: 1, length: 3 });
    expect(r.reason).toMatch(/3 consecutive/);
  });

  test("ignores windows before the warm-up end", () => {
    const r = judgeWindows([bad, bad, bad, bad, good, good], { warmupEndIndex: 4 });
    expect(r.verdict).toBe("pass");
    expect(r.badWindows).toEqual([]);
    expect(r.judgedWindows).toBe(2);
  });

  test("skipped windows neither extend nor reset a bad streak", () => {
    const thin: LatencyWindowStats = { p50: 100, p95: 900, count: 3 };
    const r = judgeWindows([bad, empty, bad, thin, bad, good], { maxConsecutiveBad: 2 });
    expect(r.skippedWindows).toEqual([1, 3]);
    expect(r.verdict).toBe("fail");
    expect(r.longestBadRun).toEqual({ start: 0, length: 3 });
  });

  test("counts a p95 of exactly maxRatio times p50 as bad and honours a custom ratio", () => {
    const edge: LatencyWindowStats = { p50: 10, p95: 20 };
    expect(judgeWindows([edge]).badWindows).toHaveLength(1);
    expect(judgeWindows([edge], { maxRatio: 2.5 }).badWindows).toHaveLength(0);
    expect(judgeWindows([edge, edge], { maxConsecutiveBad: 1 }).verdict).toBe("fail");
    expect(judgeWindows([edge, edge], { maxConsecutiveBad: 0, maxRatio: 3 }).verdict).toBe("pass");
  });

  test("is inconclusive without any judged window", () => {
    expect(judgeWindows([]).verdict).toBe("inconclusive");
    expect(judgeWindows([empty, { p50: 0, p95: 0, count: 100 }]).verdict).toBe("inconclusive");
    expect(judgeWindows([good], { warmupEndIndex: 1 }).verdict).toBe("inconclusive");
  });

  test("reads p50 and p95 of a metric from window records", () => {
    let t = 0;
    const agg = createWindowAggregator({ now: () => t, windowMs: 1000 });
    for (let i = 1; i <= 40; i++) agg.recordRequest({ ok: true, e2eMs: i, ttftMs: i === 40 ? 1000 : 1 });
    t += 1000;
    const records = [agg.flushIfDue()!];
    expect(latencyWindowsFrom(records, "e2eMs")).toEqual([{ p50: 20, p95: 38, count: 40 }]);
    const ttft = judgeWindows(latencyWindowsFrom(records, "ttftMs"), { maxConsecutiveBad: 0 });
    expect(ttft.verdict).toBe("pass");
  });

  test("rejects invalid options", () => {
    expect(() => judgeWindows([good], { maxRatio: 0 })).toThrow(RangeError);
    expect(() => judgeWindows([good], { maxConsecutiveBad: -1 })).toThrow(RangeError);
    expect(() => judgeWindows([good], { warmupEndIndex: 1.5 })).toThrow(RangeError);
  });
});
