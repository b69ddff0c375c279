import { describe, expect, test } from "vitest";
import { createThreadGovernor } from "../../src/engine/thread-plan-governor.js";

/** Feeds the governor decodes that take `msFor(threads)` each; returns the thread counts it chose. */
function drive(gov: ReturnType<typeof createThreadGovernor>, wanted: number, n: number, msFor: (threads: number) => number): number[] {
  const chosen: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = gov.choose(wanted);
    chosen.push(t);
    gov.record(t, msFor(t));
  }
  return chosen;
}

describe("createThreadGovernor", () => {
  test("uses the planned thread count when it is the minimum (nothing to decide)", () => {
    const gov = createThreadGovernor({ min: 1 });
    expect(drive(gov, 1, 50, () => 1)).toEqual(Array(50).fill(1));
  });

  test("keeps the larger thread count while it is faster", () => {
    const gov = createThreadGovernor({ min: 1 });
    const chosen = drive(gov, 2, 400, (t) => (t === 2 ? 0.15 : 0.3));
    const share = chosen.slice(100).filter((t) => t === 2).length / 300;
    expect(share).toBeGreaterThan(0.95);
  });

  test("falls back to the minimum when more threads collapse (busy-waiting on an oversubscribed machine)", () => {
    const gov = createThreadGovernor({ min: 1 });
    const chosen = drive(gov, 2, 2000, (t) => (t === 2 ? 20 : 0.3));
    const late = chosen.slice(200);
    expect(late.filter((t) => t === 1).length / late.length).toBeGreaterThan(0.99);
  });

  test("probes the larger count again and returns to it once it is faster again", () => {
    const gov = createThreadGovernor({ min: 1, maxProbeInterval: 64 });
    drive(gov, 2, 500, (t) => (t === 2 ? 20 : 0.3));
    const chosen = drive(gov, 2, 600, (t) => (t === 2 ? 0.15 : 0.3));
    expect(chosen.slice(-100).filter((t) => t === 2).length).toBeGreaterThan(95);
  });

  test("reports its estimates per thread count", () => {
    const gov = createThreadGovernor({ min: 1 });
    drive(gov, 2, 300, (t) => (t === 2 ? 0.2 : 0.4));
    const s = gov.snapshot();
    expect(s[2]).toBeCloseTo(0.2, 5);
    expect(s[1]).toBeCloseTo(0.4, 5);
  });
});
