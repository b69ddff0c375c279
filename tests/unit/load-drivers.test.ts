import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/harness/load/clock.js";
import { runClosedLoop, runOpenLoop } from "../../src/harness/load/drivers.js";

/** A clock that only moves when told to: sleeping advances it at once. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let t = 1000;
  return {
    now: () => t,
    sleep: async (ms) => { t += ms; },
    advance: (ms) => { t += ms; },
  };
}

describe("runClosedLoop", () => {
  test("sends exactly the requested count, never more than `connections` at once", async () => {
    const clock = fakeClock();
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const r = await runClosedLoop({
      connections: 3, count: 10, durationMs: null, clock,
      send: async (i) => { inFlight++; most = Math.max(most, inFlight); seen.push(i); await new Promise((res) => setImmediate(res)); inFlight--; },
    });
    expect(r.sent).toBe(10);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
  });

  test("starts no request once the duration has passed", async () => {
    const clock = fakeClock();
    const r = await runClosedLoop({ connections: 2, count: null, durationMs: 100, clock, send: async () => clock.advance(30) });
    // Each send takes 30 ms of clock time; the two workers together pass 100 ms after 4 sends each side at most.
    expect(r.sent).toBeGreaterThanOrEqual(4);
    expect(r.sent).toBeLessThanOrEqual(8);
  });

  test("uses one worker per request when there are fewer requests than connections", async () => {
    let most = 0;
    let inFlight = 0;
    await runClosedLoop({ connections: 50, count: 2, durationMs: null, clock: fakeClock(), send: async () => { inFlight++; most = Math.max(most, inFlight); await Promise.resolve(); inFlight--; } });
    expect(most).toBe(2);
  });
});

describe("runOpenLoop", () => {
  test("starts each request at its scheduled time and records zero lateness when it keeps up", async () => {
    const clock = fakeClock();
    const starts: number[] = [];
    const r = await runOpenLoop({ offsets: [0, 50, 100], maxInFlight: 10, clock, send: async (_i, due) => { starts.push(clock.now() - due); } });
    expect(r.sent).toBe(3);
    expect(starts).toEqual([0, 0, 0]);
    expect(r.lateness.max).toBe(0);
  });

  test("records how late requests start when the in-flight limit holds them back", async () => {
    const clock = fakeClock();
    const releases: (() => void)[] = [];
    const run = runOpenLoop({
      offsets: [0, 0, 0], maxInFlight: 1, clock,
      send: () => new Promise<void>((resolve) => releases.push(() => { clock.advance(40); resolve(); })),
    });
    for (let k = 0; k < 3; k++) {
      while (releases.length === 0) await new Promise((r) => setImmediate(r));
      releases.shift()!();
    }
    const r = await run;
    expect(r.lateness.count).toBe(3);
    expect(r.lateness.max).toBe(80);
    expect(r.lateness.percentile(50)).toBe(40);
  });
});
