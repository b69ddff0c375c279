import { describe, expect, test } from "vitest";
import { parseHarnessArgs } from "../../src/cli/harness-args.js";

const ALL = ["scenario", "target", "gate", "baseline", "baseline-tolerance", "out", "load", "name", "max-loop-delay-ms", "max-lateness-ms", "help"] as const;

describe("parseHarnessArgs", () => {
  test("reads repeatable and single options with defaults for the rest", () => {
    const r = parseHarnessArgs(["--scenario", "a", "--scenario=b", "--gate", "p50 < 9", "--gate", "errors == 0", "--target", "http://127.0.0.1:1", "--out", "x"], ALL);
    expect(r).toEqual({ ok: true, args: {
      scenarios: ["a", "b"], target: "http://127.0.0.1:1", gates: ["p50 < 9", "errors == 0"], baseline: null, baselines: [], baselineTolerancePct: null,
      out: "x", load: "load", name: null, maxLoopDelayMs: null, maxLatenessMs: null, help: false,
    } });
  });

  test("suggests the option meant by a typo and refuses options the command does not take", () => {
    expect(parseHarnessArgs(["--scenarios", "a"], ALL)).toEqual({ ok: false, error: "unknown option --scenarios (did you mean --scenario?)" });
    expect(parseHarnessArgs(["--target", "http://127.0.0.1:1"], ["gate", "out"])).toMatchObject({ ok: false, error: expect.stringMatching(/unknown option --target/) });
  });

  test("says what is wrong with a bad number, a missing value and a stray argument", () => {
    expect(parseHarnessArgs(["--max-loop-delay-ms", "soon"], ALL)).toEqual({ ok: false, error: '--max-loop-delay-ms needs a number >= 0, got "soon"' });
    expect(parseHarnessArgs(["--gate"], ALL)).toMatchObject({ ok: false, error: expect.stringMatching(/--gate/) });
    expect(parseHarnessArgs(["quick"], ALL)).toEqual({ ok: false, error: 'unexpected argument "quick"; options start with --' });
  });

  test("--baseline may be repeated: every stored run is kept, in order", () => {
    const r = parseHarnessArgs(["--baseline", "a.json", "--baseline", "b.json", "--baseline", "c.json"], ALL);
    expect(r.ok && r.args.baselines).toEqual(["a.json", "b.json", "c.json"]);
    expect(r.ok && r.args.baseline).toBe("a.json");
  });

  test("accepts 0 as a limit and needs --baseline for --baseline-tolerance", () => {
    expect(parseHarnessArgs(["--max-loop-delay-ms", "0"], ALL)).toMatchObject({ ok: true, args: { maxLoopDelayMs: 0 } });
    expect(parseHarnessArgs(["--baseline-tolerance", "5"], ALL)).toEqual({ ok: false, error: "--baseline-tolerance needs --baseline <report.json>" });
  });
});
