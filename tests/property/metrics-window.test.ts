import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exactPercentile } from "../../src/harness/stats/exact.js";
import { EXACT_LIMIT } from "../../src/harness/stats/histogram.js";
import { LatencyWindow, MAX_RELATIVE_ERROR } from "../../src/observability/latency-window.js";

const WINDOW_MS = 60_000;
const SLOTS = 12;
const SLOT_MS = WINDOW_MS / SLOTS;

const latency = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 120_000, noNaN: true }));
/** (latency, ms since the previous sample) pairs; long enough to cross the exact limit. */
const timed = fc.oneof(
  fc.array(fc.tuple(latency, fc.integer({ min: 0, max: 500 })), { minLength: 1, maxLength: 60 }),
  fc.array(fc.tuple(latency, fc.integer({ min: 0, max: 20 })), { minLength: EXACT_LIMIT + 1, maxLength: EXACT_LIMIT * 2 }),
);

/** Rounding to the microsecond adds at most half a microsecond. */
const ROUNDING_MS = 0.0005;

function withinStatedError(reported: number, exact: number): boolean {
  return Math.abs(reported - exact) <= MAX_RELATIVE_ERROR * exact + ROUNDING_MS + 1e-9;
}

describe("LatencyWindow (the /v1/metrics latency path)", () => {
  test("p50/p95/p99 of the live window are within the stated error of exact nearest-rank percentiles", () => {
    fc.assert(
      fc.property(timed, fc.array(latency, { maxLength: 30 }), (samples, expired) => {
        let t = 0;
        const w = new LatencyWindow({ windowMs: WINDOW_MS, slots: SLOTS, now: () => t });
        // Samples from more than a window ago must not count.
        for (const v of expired) w.record(v);
        t = WINDOW_MS + SLOT_MS;
        const live: number[] = [];
        for (const [v, dt] of samples) {
          // Keep every live sample inside the part of the window that is always covered.
          if (t + dt - (WINDOW_MS + SLOT_MS) < WINDOW_MS - SLOT_MS) t += dt;
          w.record(v);
          live.push(v);
        }
        const sorted = [...live].sort((a, b) => a - b);
        const s = w.summary();
        expect(s.count).toBe(live.length);
        expect(withinStatedError(s.p50, exactPercentile(sorted, 50)!)).toBe(true);
        expect(withinStatedError(s.p95, exactPercentile(sorted, 95)!)).toBe(true);
        expect(withinStatedError(s.p99, exactPercentile(sorted, 99)!)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test("a negative latency is rejected and changes nothing; zero is accepted", () => {
    fc.assert(
      fc.property(fc.array(latency, { maxLength: 20 }), fc.double({ max: -Number.MIN_VALUE, noNaN: true }), (before, negative) => {
        const w = new LatencyWindow({ windowMs: WINDOW_MS, now: () => 0 });
        for (const v of before) w.record(v);
        const summary = w.summary();
        expect(() => w.record(negative)).toThrow(RangeError);
        expect(w.summary()).toEqual(summary);
        w.record(0);
        expect(w.summary().count).toBe(before.length + 1);
      }),
      { numRuns: 100 },
    );
  });
});
