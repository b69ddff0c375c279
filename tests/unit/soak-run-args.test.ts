import { describe, expect, test } from "vitest";
import { parseSoakArgs } from "../../src/harness/soak-run/soak-args.js";

const ok = (argv: string[]) => {
  const r = parseSoakArgs(argv);
  if (!r.ok) throw new Error(r.error);
  return r.args;
};
const err = (argv: string[]) => {
  const r = parseSoakArgs(argv);
  if (r.ok) throw new Error(`expected an error for ${argv.join(" ")}`);
  return r.error;
};

describe("soak-run args", () => {
  test("--duration with free --rate, --concurrency, --window, --gate (repeatable), --out, --target", () => {
    const a = ok(["--duration", "4h", "--rate", "2/min", "--concurrency", "3", "--window", "30s", "--gate", "p95 < 500", "--gate", "failure_rate < 0.01", "--out", "r", "--target", "http://127.0.0.1:8080"]);
    expect(a).toMatchObject({ durationMs: 14_400_000, ratePerSecond: 2 / 60, concurrency: 3, windowMs: 30_000, gates: ["p95 < 500", "failure_rate < 0.01"], out: "r", target: "http://127.0.0.1:8080", preset: null, resume: null });
  });

  test("a preset alone is enough; defaults for out and load", () => {
    expect(ok(["--preset", "2h"])).toMatchObject({ preset: "2h", durationMs: null, out: "reports", load: "load", gates: [] });
  });

  test("--rate closed asks for a closed loop", () => {
    expect(ok(["--duration", "90s", "--rate", "closed"]).ratePerSecond).toBeNull();
    expect(ok(["--duration", "90s"]).ratePerSecond).toBeUndefined();
  });

  test("--resume takes a run directory and nothing else", () => {
    expect(ok(["--resume", "reports/x"])).toMatchObject({ resume: "reports/x" });
    expect(err(["--resume", "reports/x", "--duration", "4h"])).toMatch(/--resume continues a run with its own settings/);
  });

  test("usage errors say what to write", () => {
    expect(err([])).toMatch(/--duration.*--preset/);
    expect(err(["--duration", "4 hours"])).toMatch(/--duration: .*90s, 10m, 4h/);
    expect(err(["--duration", "1h", "--window", "2h"])).toMatch(/--window .* longer than the run/);
    expect(err(["--duration", "1h", "--concurrency", "0"])).toMatch(/--concurrency/);
    expect(err(["--duration", "1h", "--rate", "fast"])).toMatch(/--rate: .*2\/min/);
    expect(err(["--duraton", "1h"])).toMatch(/unknown option --duraton \(did you mean --duration\?\)/);
    expect(err(["--duration", "1h", "--name", "a b"])).toMatch(/--name/);
    expect(err(["--duration", "1h", "extra"])).toMatch(/unexpected argument/);
  });

  test("--help", () => {
    expect(ok(["--help"]).help).toBe(true);
  });
});
