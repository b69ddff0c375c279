import { describe, expect, test } from "vitest";
import { judgeMemory } from "../../src/harness/soak/leak-verdict.js";
import { syntheticMemorySeries } from "../../src/harness/soak/synthetic.js";
import type { SyntheticMemoryOptions } from "../../src/harness/soak/synthetic.js";

const HOUR = 3_600_000;
const MB = 1_000_000;
const planned = 4 * HOUR;

/** A clean server: 500 MB, 2 MB noise, a 20 MB GC sawtooth, a 200 MB warm-up rise; one sample a minute. */
function run(seed: number, extra: Partial<SyntheticMemoryOptions> = {}): { tMs: number; bytes: number }[] {
  return syntheticMemorySeries({
    seed,
    durationMs: planned,
    intervalMs: 60_000,
    baselineBytes: 500 * MB,
    noiseBytes: 2 * MB,
    sawtooth: { amplitudeBytes: 20 * MB, periodMs: 7 * 60_000 },
    warmup: { riseBytes: 200 * MB, tauMs: 5 * 60_000 },
    ...extra,
  });
}

/** The Monte-Carlo checks sample every 2 minutes to keep the suite fast. */
const quickRun = (seed: number, extra: Partial<SyntheticMemoryOptions> = {}): { tMs: number; bytes: number }[] =>
  run(seed, { intervalMs: 120_000, ...extra });

describe("leak-verdict", () => {
  test("passes a flat series with noise, a GC sawtooth and a warm-up rise", () => {
    const v = judgeMemory(run(1), { plannedDurationMs: planned });
    expect(v.verdict).toBe("pass");
    expect(Math.abs(v.projectedGrowthPct!)).toBeLessThan(3);
    expect(v.projectedGrowthPctHigh!).toBeLessThanOrEqual(20);
    expect(v.warmup!.endX).toBeGreaterThan(0);
    expect(v.warmup!.endX).toBeLessThan(planned / 2);
    expect(v.baselineBytes!).toBeGreaterThan(495 * MB);
    expect(v.baselineBytes!).toBeLessThan(525 * MB);
  });

  test("fails a steady leak of 30% over the planned duration", () => {
    const v = judgeMemory(run(2, { leakPctOverRun: 30 }), { plannedDurationMs: planned });
    expect(v.verdict).toBe("fail");
    expect(v.projectedGrowthPct!).toBeGreaterThan(20);
    expect(v.projectedGrowthPctLow!).toBeGreaterThan(0);
    // 30% of 500 MB over 4 h
    expect(v.slopeBytesPerHour!).toBeGreaterThan(0.9 * 37.5 * MB);
    expect(v.slopeBytesPerHour!).toBeLessThan(1.1 * 37.5 * MB);
    expect(v.slopeCI!.low).toBeLessThanOrEqual(v.slopeBytesPerHour!);
    expect(v.slopeCI!.high).toBeGreaterThanOrEqual(v.slopeBytesPerHour!);
    expect(v.reason).toMatch(/exceeds/);
  });

  test("passes a small leak of 5% over the planned duration", () => {
    const v = judgeMemory(run(3, { leakPctOverRun: 5 }), { plannedDurationMs: planned });
    expect(v.verdict).toBe("pass");
    expect(v.projectedGrowthPct!).toBeGreaterThan(2);
    expect(v.projectedGrowthPct!).toBeLessThan(8);
  });

  test("passes a step change that happens only during warm-up", () => {
    const v = judgeMemory(run(4, { warmup: undefined, step: { atMs: 3 * 60_000, bytes: 150 * MB } }), {
      plannedDurationMs: planned,
    });
    expect(v.verdict).toBe("pass");
    expect(v.warmup!.endX).toBeGreaterThanOrEqual(3 * 60_000);
    expect(v.baselineBytes!).toBeGreaterThan(640 * MB);
  });

  test("is inconclusive when too few samples remain after warm-up", () => {
    const short = run(5).slice(0, 20);
    const v = judgeMemory(short, { plannedDurationMs: planned });
    expect(v.verdict).toBe("inconclusive");
    expect(v.reason).toMatch(/samples/);
    expect(judgeMemory([], { plannedDurationMs: planned }).verdict).toBe("inconclusive");
  });

  test("is inconclusive when the interval straddles the limit", () => {
    // 15% growth buried in 150 MB noise with 41 samples: neither pass nor fail is supported.
    const samples = syntheticMemorySeries({
      seed: 8,
      durationMs: planned,
      intervalMs: 6 * 60_000,
      baselineBytes: 500 * MB,
      noiseBytes: 150 * MB,
      leakPctOverRun: 15,
    });
    const v = judgeMemory(samples, { plannedDurationMs: planned, minPostWarmupSamples: 10 });
    expect(v.verdict).toBe("inconclusive");
    expect(v.projectedGrowthPctLow!).toBeLessThan(20);
    expect(v.projectedGrowthPctHigh!).toBeGreaterThan(20);
  });

  test("projects a partial run over the rest of the planned duration", () => {
    const firstHour = run(7, { leakPctOverRun: 30 }).filter((s) => s.tMs <= HOUR);
    const v = judgeMemory(firstHour, { plannedDurationMs: planned });
    expect(v.horizonMs!).toBeGreaterThan(3 * HOUR);
    expect(v.verdict).toBe("fail");
  });

  test("sorts samples by time and ignores non-finite ones", () => {
    const samples = run(8);
    const shuffled = [...samples].reverse();
    shuffled.push({ tMs: 5, bytes: Number.NaN }, { tMs: Number.POSITIVE_INFINITY, bytes: 1 });
    const a = judgeMemory(samples, { plannedDurationMs: planned });
    const b = judgeMemory(shuffled, { plannedDurationMs: planned });
    expect(b.slopeBytesPerHour).toBe(a.slopeBytesPerHour);
    expect(b.samples.ignored).toBe(2);
  });

  test("honours a custom growth limit", () => {
    const samples = run(9, { leakPctOverRun: 12 });
    expect(judgeMemory(samples, { plannedDurationMs: planned }).verdict).toBe("pass");
    expect(judgeMemory(samples, { plannedDurationMs: planned, maxGrowthPct: 5 }).verdict).toBe("fail");
  });

  test("raises fewer than 5% false alarms over 200 seeded clean runs", () => {
    let alarms = 0;
    let passes = 0;
    for (let seed = 1000; seed < 1200; seed++) {
      const v = judgeMemory(quickRun(seed), { plannedDurationMs: planned });
      if (v.verdict === "fail") alarms++;
      if (v.verdict === "pass") passes++;
    }
    expect(alarms).toBeLessThan(10);
    expect(passes).toBeGreaterThanOrEqual(190);
  });

  test("catches at least 95% of 100 seeded runs leaking 30%", () => {
    let caught = 0;
    for (let seed = 2000; seed < 2100; seed++) {
      if (judgeMemory(quickRun(seed, { leakPctOverRun: 30 }), { plannedDurationMs: planned }).verdict === "fail") caught++;
    }
    expect(caught).toBeGreaterThanOrEqual(95);
  });

  describe("a bounded cache (fills at a steady rate, then evicts and stays flat)", () => {
    /** One sample a minute over 4 h: the cache grows linearly by fillPct of the baseline until fullAt, then stays full. */
    const cache = (seed: number, fillPct: number, fullAtShare: number) =>
      run(seed, { warmup: undefined, cache: { fillBytes: (fillPct / 100) * 500 * MB, fullAtMs: fullAtShare * planned } });

    test("filling before the 50% warm-up cap is warm-up: green, judged on the flat part", () => {
      const v = judgeMemory(cache(20, 30, 0.3), { plannedDurationMs: planned });
      expect(v.verdict).toBe("pass");
      expect(v.warmup!.endX).toBeGreaterThanOrEqual(0.25 * planned);
      expect(v.warmup!.endX).toBeLessThanOrEqual(0.5 * planned);
      expect(v.plateau).toBeNull();
      expect(Math.abs(v.projectedGrowthPct!)).toBeLessThan(3);
    });

    test("plateauing late (75% of the run) after growing 19% is not projected as a straight line: green, where the line said red", () => {
      const v = judgeMemory(cache(21, 19, 0.75), { plannedDurationMs: planned });
      const whole = judgeMemory(cache(21, 19, 0.75), { plannedDurationMs: planned, lateSlopeCheck: false });
      expect(whole.verdict).toBe("fail");
      expect(whole.plateau).toBeNull();
      expect(v.plateau).not.toBeNull();
      expect(v.plateau!.slopeBytesPerHour).toBeLessThan(0.25 * whole.slopeBytesPerHour!);
      expect(v.projectedGrowthPct!).toBeGreaterThan(17);
      expect(v.projectedGrowthPct!).toBeLessThan(20);
      expect(v.verdict).toBe("pass");
      expect(v.reason).toMatch(/flattened in the last third/);
    });

    test("plateauing only after growing 40% is still red: it grew past the limit", () => {
      const v = judgeMemory(cache(22, 40, 0.7), { plannedDurationMs: planned });
      expect(v.plateau).not.toBeNull();
      expect(v.verdict).toBe("fail");
      expect(v.projectedGrowthPct!).toBeGreaterThan(30);
    });

    test("a partial run that flattened is projected over the rest of the planned duration from its recent slope", () => {
      const firstHalf = cache(23, 10, 0.375).filter((s) => s.tMs <= planned / 2);
      expect(judgeMemory(firstHalf, { plannedDurationMs: planned, lateSlopeCheck: false }).verdict).toBe("fail");
      const v = judgeMemory(firstHalf, { plannedDurationMs: planned });
      expect(v.plateau).not.toBeNull();
      expect(v.verdict).toBe("pass");
      expect(v.projectedGrowthPct!).toBeLessThan(15);
    });

    test("a steady leak is not mistaken for a plateau", () => {
      for (let seed = 30; seed < 40; seed++) {
        const v = judgeMemory(run(seed, { leakPctOverRun: 30 }), { plannedDurationMs: planned });
        expect(v.verdict, `seed ${seed}`).toBe("fail");
      }
    });
  });

  test("rejects invalid options", () => {
    expect(() => judgeMemory(run(1), { plannedDurationMs: 0 })).toThrow(RangeError);
    expect(() => judgeMemory(run(1), { plannedDurationMs: planned, maxGrowthPct: -1 })).toThrow(RangeError);
  });
});
