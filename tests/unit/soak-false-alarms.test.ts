import { describe, expect, test } from "vitest";
import { falseAlarmMarkdown, summarizeFalseAlarms, wilsonInterval } from "../../src/harness/soak-run/false-alarms.js";
import type { CleanRun } from "../../src/harness/soak-run/false-alarms.js";

const run = (i: number, verdict: CleanRun["verdict"], memoryGate: CleanRun["memoryGate"], redGates: string[] = []): CleanRun => ({
  run: i, verdict, memoryGate, growthPct: 1.5, growthPctLow: 0.5, redGates, invalidReasons: verdict === "invalid" ? ["too noisy"] : [], runDir: `runs/${i}`,
});

describe("soak false-alarm rate (scripts/soak-false-alarms.ts)", () => {
  test("the 95% Wilson score interval matches published values and stays inside [0, 1]", () => {
    const close = (a: [number, number], b: [number, number]) => {
      expect(a[0]).toBeCloseTo(b[0], 4);
      expect(a[1]).toBeCloseTo(b[1], 4);
    };
    close(wilsonInterval(0, 5), [0, 0.4345]);
    close(wilsonInterval(1, 10), [0.0179, 0.4042]);
    close(wilsonInterval(5, 10), [0.2366, 0.7634]);
    close(wilsonInterval(10, 10), [0.7225, 1]);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
  });

  test("counts red runs over the runs that reached a verdict; invalid runs and memory-gate reds are reported apart", () => {
    const s = summarizeFalseAlarms([
      run(1, "pass", "pass"), run(2, "fail", "fail", ["soak/memory-growth"]), run(3, "fail", "pass", ["soak/latency-stability"]),
      run(4, "invalid", "pass"), run(5, "pass", "pass"),
    ]);
    expect(s).toMatchObject({ runs: 5, decided: 4, green: 2, red: 2, invalid: 1, falseAlarmRate: 0.5, memoryFalseAlarms: 1, memoryJudged: 5, memoryFalseAlarmRate: 0.2, redByGate: { "soak/memory-growth": 1, "soak/latency-stability": 1 } });
    expect(s.wilson95).toEqual(wilsonInterval(2, 4));
    expect(s.memoryWilson95).toEqual(wilsonInterval(1, 5));
    expect(s.invalidRate).toBe(0.2);
  });

  test("no run with a verdict gives no rate, not a division by zero", () => {
    const s = summarizeFalseAlarms([run(1, "invalid", null)]);
    expect(s.falseAlarmRate).toBeNull();
    expect(s.memoryFalseAlarmRate).toBeNull();
    expect(s.wilson95).toEqual([0, 1]);
  });

  test("the markdown summary states the rates with their intervals and one row per run", () => {
    const md = falseAlarmMarkdown(summarizeFalseAlarms([run(1, "pass", "pass"), run(2, "fail", "fail", ["soak/memory-growth"])]), { preset: "ci", durationMs: 60_000, windowMs: 5000 });
    expect(md).toMatch(/^# Soak false alarms: 1 of 2 clean runs red/);
    expect(md).toMatch(/false-alarm rate 50\.0% \(95% Wilson interval 9\.5%-90\.5%\)/);
    expect(md).toMatch(/memory gate alone: 1 of 2 \(50\.0%/);
    expect(md.split("\n").filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(2);
  });
});
