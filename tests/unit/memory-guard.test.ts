import { describe, expect, test } from "vitest";
import { createMemoryGuard } from "../../src/resilience/memory-guard.js";
import type { MemoryGuardOptions, Scheduler, TimerHandle } from "../../src/resilience/memory-guard.js";

function setup(overrides: Partial<MemoryGuardOptions> = {}) {
  let usage = 0;
  let clears = 0;
  const guard = createMemoryGuard({
    limitBytes: 1000,
    readUsage: () => usage,
    onClear: () => {
      clears++;
    },
    ...overrides,
  });
  return {
    guard,
    clears: () => clears,
    /** Sets usage to `pct` percent of the limit and runs one check. */
    at: async (pct: number) => {
      usage = pct * 10;
      return guard.check();
    },
  };
}

class ManualScheduler implements Scheduler {
  readonly timers: Array<{ fn: () => void; ms: number; unrefed: boolean; cleared: boolean }> = [];
  setInterval(fn: () => void, ms: number): TimerHandle {
    const timer = { fn, ms, unrefed: false, cleared: false };
    this.timers.push(timer);
    return {
      unref: () => {
        timer.unrefed = true;
      },
      id: this.timers.length - 1,
    } as TimerHandle;
  }
  clearInterval(handle: TimerHandle): void {
    const timer = this.timers[(handle as unknown as { id: number }).id];
    if (timer !== undefined) timer.cleared = true;
  }
  tick(): void {
    for (const t of this.timers) if (!t.cleared) t.fn();
  }
}

describe("createMemoryGuard", () => {
  test("usage below clearPct is ok and nothing is rejected or cleared", async () => {
    const { guard, at, clears } = setup();
    expect(await at(50)).toBe("ok");
    expect(guard.shouldReject()).toBe(false);
    expect(clears()).toBe(0);
    expect(guard.stats()).toMatchObject({ state: "ok", lastUsagePct: 50, clears: 0, rejections: 0 });
  });

  test("crossing clearPct calls onClear once per crossing, re-armed only below the hysteresis band", async () => {
    const { at, clears } = setup();
    expect(await at(90)).toBe("pressure");
    await at(92);
    expect(clears()).toBe(1);
    await at(89);
    await at(91);
    expect(clears()).toBe(1);
    expect(await at(87)).toBe("ok");
    await at(90);
    expect(clears()).toBe(2);
  });

  test("at rejectPct it turns critical and rejects until usage falls below the hysteresis band", async () => {
    const { guard, at } = setup();
    expect(await at(95)).toBe("critical");
    expect(guard.shouldReject()).toBe(true);
    expect(await at(94)).toBe("critical");
    expect(guard.shouldReject()).toBe(true);
    expect(await at(92.9)).toBe("pressure");
    expect(guard.shouldReject()).toBe(false);
    expect(guard.stats().rejections).toBe(2);
  });

  test("a jump straight from ok to critical clears once and rejects", async () => {
    const { guard, at, clears } = setup();
    await at(10);
    expect(await at(99)).toBe("critical");
    expect(clears()).toBe(1);
    expect(guard.shouldReject()).toBe(true);
  });

  test("a usage reading that fails keeps the previous state and is counted", async () => {
    let fail = false;
    let usage = 960;
    const guard = createMemoryGuard({
      limitBytes: 1000,
      readUsage: async () => {
        if (fail) throw new Error("EIO");
        return usage;
      },
    });
    expect(await guard.check()).toBe("critical");
    fail = true;
    usage = 10;
    expect(await guard.check()).toBe("critical");
    expect(guard.stats()).toMatchObject({ readErrors: 1, state: "critical" });
  });

  test("a throwing or rejecting onClear does not break the guard", async () => {
    const sync = setup({
      onClear: () => {
        throw new Error("bug");
      },
    });
    expect(await sync.at(96)).toBe("critical");
    const asyncGuard = setup({ onClear: () => Promise.reject(new Error("bug")) });
    expect(await asyncGuard.at(96)).toBe("critical");
    await Promise.resolve();
    expect(asyncGuard.guard.stats()).toMatchObject({ clears: 1, clearErrors: 1 });
  });

  test("start checks on an unref'd interval, stop cancels it, and a second start is a no-op", async () => {
    const scheduler = new ManualScheduler();
    let reads = 0;
    const guard = createMemoryGuard({
      limitBytes: 1000,
      intervalMs: 250,
      scheduler,
      readUsage: () => {
        reads++;
        return 970;
      },
    });
    guard.start();
    guard.start();
    expect(scheduler.timers).toHaveLength(1);
    expect(scheduler.timers[0]).toMatchObject({ ms: 250, unrefed: true });
    scheduler.tick();
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(1);
    expect(guard.shouldReject()).toBe(true);
    guard.stop();
    scheduler.tick();
    expect(reads).toBe(1);
    expect(scheduler.timers[0]?.cleared).toBe(true);
  });

  test("invalid limits and thresholds are refused", () => {
    const readUsage = (): number => 0;
    expect(() => createMemoryGuard({ limitBytes: 0, readUsage })).toThrow(RangeError);
    expect(() => createMemoryGuard({ limitBytes: 100, readUsage, clearPct: 96, rejectPct: 95 })).toThrow(RangeError);
    expect(() => createMemoryGuard({ limitBytes: 100, readUsage, hysteresisPct: -1 })).toThrow(RangeError);
  });
});
