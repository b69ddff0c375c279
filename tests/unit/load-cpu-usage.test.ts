import { describe, expect, test } from "vitest";
import { cpuSnapshot, foreignCpuPct, parsePidStat, parseProcStat } from "../../src/harness/load/cpu-usage.js";

describe("cpu usage", () => {
  test("reads total and idle ticks from /proc/stat's cpu line", () => {
    expect(parseProcStat("cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 1 2 3 4\n")).toEqual({ total: 981, idle: 820 });
    expect(parseProcStat("intr 1 2\n")).toBeNull();
  });

  test("reads utime + stime of a process even when its name has spaces and parentheses", () => {
    const line = "1234 (node (x) y) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 11 0 100 0 0";
    expect(parsePidStat(line)).toBe(325);
  });

  test("attributes busy ticks not spent by the watched processes to others", () => {
    const a = { totalTicks: 1000, idleTicks: 600, ownTicks: 100 };
    const b = { totalTicks: 2000, idleTicks: 1000, ownTicks: 400 };
    // 1000 ticks passed: 400 idle, 600 busy, 300 of them ours -> 30% by others
    expect(foreignCpuPct(a, b)).toBeCloseTo(30, 6);
    expect(foreignCpuPct(null, b)).toBeNull();
    expect(foreignCpuPct(a, a)).toBeNull();
  });

  test("takes a snapshot of this process on Linux", async () => {
    const s = await cpuSnapshot([process.pid]);
    expect(s === null || (s.totalTicks > 0 && s.ownTicks >= 0)).toBe(true);
    expect(await cpuSnapshot([2 ** 30])).toBeNull();
  });
});
