import { describe, expect, test } from "vitest";
import { SlidingCounter } from "../../src/observability/sliding-counter.js";

function clock(start = 0) {
  let t = start;
  return { now: () => t, set: (v: number) => void (t = v), advance: (d: number) => void (t += d) };
}

describe("SlidingCounter", () => {
  test("counts nothing and rates zero before any event", () => {
    const c = clock();
    const s = new SlidingCounter({ windowMs: 60_000, slots: 12, now: c.now });
    c.advance(5_000);
    expect(s.count()).toBe(0);
    expect(s.ratePerSecond()).toBe(0);
  });

  test("the rate is events in the window over the time the window covers", () => {
    const c = clock();
    const s = new SlidingCounter({ windowMs: 60_000, slots: 12, now: c.now });
    for (let i = 0; i < 30; i++) {
      s.add();
      c.advance(1_000);
    }
    expect(s.count()).toBe(30);
    expect(s.ratePerSecond()).toBeCloseTo(1, 5);
  });

  test("a young server's rate is not diluted by the part of the window before it started", () => {
    const c = clock(1_000_000);
    const s = new SlidingCounter({ windowMs: 60_000, slots: 12, now: c.now });
    c.advance(4_000);
    s.add(8);
    expect(s.ratePerSecond()).toBeCloseTo(2, 5);
  });

  test("the covered time is at least one second, so a burst at start is not an absurd rate", () => {
    const c = clock();
    const s = new SlidingCounter({ windowMs: 60_000, slots: 12, now: c.now });
    c.advance(10);
    s.add(3);
    expect(s.ratePerSecond()).toBe(3);
  });

  test("events older than the window are forgotten", () => {
    const c = clock();
    const s = new SlidingCounter({ windowMs: 10_000, slots: 10, now: c.now });
    s.add(5);
    c.advance(11_000);
    expect(s.count()).toBe(0);
    expect(s.ratePerSecond()).toBe(0);
  });

  test("a clock that steps backwards is treated as standing still", () => {
    const c = clock(50_000);
    const s = new SlidingCounter({ windowMs: 10_000, slots: 10, now: c.now });
    s.add(2);
    c.set(0);
    s.add(1);
    expect(s.count()).toBe(3);
  });

  test("rejects negative, fractional or non-finite increments", () => {
    const s = new SlidingCounter({ windowMs: 1_000, slots: 1, now: () => 0 });
    expect(() => s.add(-1)).toThrow(RangeError);
    expect(() => s.add(0.5)).toThrow(RangeError);
    expect(() => s.add(Number.NaN)).toThrow(RangeError);
    expect(s.count()).toBe(0);
  });
});
