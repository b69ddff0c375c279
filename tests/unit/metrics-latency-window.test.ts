import { describe, expect, test } from "vitest";
import { LatencyWindow } from "../../src/observability/latency-window.js";

describe("LatencyWindow", () => {
  test("an empty window summarises to zeros, not nulls", () => {
    const w = new LatencyWindow({ windowMs: 60_000, now: () => 0 });
    expect(w.summary()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0 });
  });

  test("reports nearest-rank percentiles in ms rounded to the microsecond", () => {
    const w = new LatencyWindow({ windowMs: 60_000, now: () => 0 });
    for (let i = 1; i <= 100; i++) w.record(i + 0.00049);
    expect(w.summary()).toEqual({ count: 100, p50: 50, p95: 95, p99: 99 });
  });

  test("forgets samples older than the window", () => {
    let t = 0;
    const w = new LatencyWindow({ windowMs: 60_000, now: () => t });
    w.record(500);
    t = 61_000;
    w.record(5);
    expect(w.summary()).toEqual({ count: 1, p50: 5, p95: 5, p99: 5 });
  });

  test("rejects a negative latency and accepts zero", () => {
    const w = new LatencyWindow({ windowMs: 60_000, now: () => 0 });
    expect(() => w.record(-0.001)).toThrow(RangeError);
    w.record(0);
    expect(w.summary()).toEqual({ count: 1, p50: 0, p95: 0, p99: 0 });
  });
});
