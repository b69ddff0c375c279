import { describe, expect, test } from "vitest";
import { WindowedHistogram } from "../../src/harness/stats/windowed-histogram.js";

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; }, set: (ms: number) => { t = ms; } };
}

describe("windowed-histogram", () => {
  test("a snapshot merges the samples of all live slots", () => {
    const c = clock();
    const w = new WindowedHistogram({ windowMs: 60_000, slots: 6, now: c.now });
    w.record(10);
    c.advance(10_000);
    w.record(20);
    c.advance(10_000);
    w.record(30);
    const s = w.snapshot();
    expect(s.count).toBe(3);
    expect(s.min).toBe(10);
    expect(s.max).toBe(30);
    expect(s.percentile(50)).toBe(20);
  });

  test("samples older than the window expire", () => {
    const c = clock();
    const w = new WindowedHistogram({ windowMs: 60_000, slots: 6, now: c.now });
    w.record(1000);
    c.advance(30_000);
    w.record(5);
    c.advance(35_000); // first sample is now 65 s old
    const s = w.snapshot();
    expect(s.count).toBe(1);
    expect(s.max).toBe(5);
    c.advance(60_000);
    expect(w.snapshot().count).toBe(0);
  });

  test("a slot reused after a full rotation starts empty", () => {
    const c = clock();
    const w = new WindowedHistogram({ windowMs: 1000, slots: 4, now: c.now });
    w.record(1);
    c.advance(1000); // same ring index, next rotation
    w.record(2);
    const s = w.snapshot();
    expect(s.count).toBe(1);
    expect(s.min).toBe(2);
  });

  test("a snapshot is a copy that later records do not change", () => {
    const c = clock();
    const w = new WindowedHistogram({ windowMs: 1000, slots: 4, now: c.now });
    w.record(1);
    const s = w.snapshot();
    w.record(2);
    expect(s.count).toBe(1);
    expect(w.snapshot().count).toBe(2);
  });

  test("a clock that steps backwards neither loses nor duplicates samples", () => {
    const c = clock(10_000);
    const w = new WindowedHistogram({ windowMs: 1000, slots: 4, now: c.now });
    w.record(1);
    c.set(0);
    w.record(2);
    expect(w.snapshot().count).toBe(2);
  });

  test("rejects a window that is not a positive multiple of whole slots", () => {
    expect(() => new WindowedHistogram({ windowMs: 0, slots: 4, now: () => 0 })).toThrow(RangeError);
    expect(() => new WindowedHistogram({ windowMs: 1000, slots: 0, now: () => 0 })).toThrow(RangeError);
    expect(() => new WindowedHistogram({ windowMs: 1000, slots: 2.5, now: () => 0 })).toThrow(RangeError);
  });

  test("record rejects invalid values like the plain histogram", () => {
    const w = new WindowedHistogram({ windowMs: 1000, slots: 4, now: () => 0 });
    expect(() => w.record(-1)).toThrow(RangeError);
    expect(w.snapshot().count).toBe(0);
  });
});
