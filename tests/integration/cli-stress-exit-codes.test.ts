/**
 * Exit codes and terminal output of `gauntlet stress` (in process) against a real server on a
 * loopback socket given with --target: red gates exit 1 with ❌ lines, an invalid run exits 2,
 * misuse exits 2 with a message before any load is sent.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runStressCommand } from "../../src/cli/stress.js";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { startTestServer, type TestServer } from "../helpers/tiny-server.js";

let server: TestServer;
let load: string;

beforeAll(async () => {
  server = await startTestServer({ slots: 2, cache: { enabled: false } }, { listen: true });
  load = mkdtempSync(join(tmpdir(), "gauntlet-cli-load-"));
  mkdirSync(join(load, "scenarios"));
  writeFileSync(join(load, "scenarios", "small.json"), JSON.stringify({
    name: "small", description: "a few plain requests", requests: 6, connections: 2, prompt: "Small {i}", distinctPrompts: 3, maxTokens: 4,
  }));
  writeFileSync(join(load, "thresholds.json"), JSON.stringify({
    defaults: { success: "success_rate >= 0.90", correct: "wrong_answers == 0" },
    validity: { maxEventLoopDelayP99Ms: 100_000, littlesLawTolerancePct: 1000 },
  }));
}, 60_000);
afterAll(async () => {
  await server?.app.close();
});

async function stress(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const out = mkdtempSync(join(tmpdir(), "gauntlet-cli-out-"));
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runStressCommand(["--load", load, "--out", out, ...args], env, {
    stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l), progress: () => undefined, isTTY: false,
  });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n"), out };
}

const latest = (out: string) => JSON.parse(readFileSync(join(out, "latest", "report.json"), "utf8")) as RunReport;

describe("gauntlet stress exit codes", () => {
  test("a forced red gate exits 1 and prints a ❌ line with the measured values", async () => {
    const r = await stress(["--target", server.url, "--gate", "p50 < 0"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/❌ small\/cli-1: p50 < 0 {2}→ {2}[\d.]+ < 0 ✗/);
    expect(r.stdout).toMatch(/✅ small\/success: success_rate >= 0\.90/);
    expect(r.stdout).toMatch(/gauntlet stress: ❌ FAIL: 3 gates, 2 passed, 1 failed/);
    const report = latest(r.out);
    expect(validateReport(report)).toEqual([]);
    expect(report.verdict).toBe("fail");
    expect(report.environment.config).toMatchObject({ target: server.url });
  });

  test("an event-loop delay limit of 0 makes the run invalid: exit 2, whatever the gates say", async () => {
    const r = await stress(["--target", server.url, "--max-loop-delay-ms", "0"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/⚠️ invalid: small: the harness's event-loop delay p99 was [\d.]+ ms \(limit 0 ms\)/);
    expect(r.stdout).toMatch(/INVALID/);
    const report = latest(r.out);
    expect(report.verdict).toBe("invalid");
    expect(validateReport(report)).toEqual([]);
  });

  test("a target that needs an API key gets it from GAUNTLET_TARGET_API_KEY (never a flag: it would show in ps)", async () => {
    const secured = await startTestServer({ slots: 2, cache: { enabled: false }, apiKey: "target-key-0123" }, { listen: true, engine: server.engine, server: { ownsEngine: false } });
    try {
      const without = await stress(["--target", secured.url]);
      expect(without.code).toBe(1);
      expect(latest(without.out).scenarios[0]?.errorsByKind).toMatchObject({ "http-401": 6 });
      const withKey = await stress(["--target", secured.url], { GAUNTLET_TARGET_API_KEY: "target-key-0123" });
      expect(withKey.code, withKey.stdout).toBe(0);
      expect(latest(withKey.out).scenarios[0]?.requests.ok).toBe(6);
      expect(JSON.stringify(latest(withKey.out))).not.toContain("target-key-0123");
    } finally {
      await secured.app.close();
    }
  });

  test("a bad --gate expression is a usage error that says what is wrong, before any load", async () => {
    const r = await stress(["--target", server.url, "--gate", "p95 < < 2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gauntlet stress: --gate "p95 < < 2": .*column 7/);
    const typo = await stress(["--target", server.url, "--gate", "p96 < 2"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown metric "p96" \(did you mean "p9\d"\?\)/);
  });

  test("a stored run given as --baseline adds a comparison per metric and a gate for each", async () => {
    const first = await stress(["--target", server.url]);
    expect(first.code, first.stdout).toBe(0);
    const baseline = join(first.out, "latest", "report.json");
    const r = await stress(["--target", server.url, "--baseline", baseline, "--baseline-tolerance", "10000"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/✅ small\/baseline-p95: p95 <= baseline\.p95 \* 101 {2}→/);
    const report = latest(r.out);
    expect(report.baseline?.source).toBe(baseline);
    expect(report.baseline?.comparisons.map((c) => c.metric)).toEqual(["p50", "p95", "throughput_rps"]);
    expect(validateReport(report)).toEqual([]);
    const broken = await stress(["--target", server.url, "--baseline", join(first.out, "nope.json")]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/--baseline .*nope\.json: cannot be read \(ENOENT\)/);
  });

  test("a target that is not on this machine is refused with exit 2", async () => {
    const r = await stress(["--target", "http://192.0.2.1:8080"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a loopback address/);
  });

  test("an unknown scenario is refused with a suggestion", async () => {
    const r = await stress(["--target", server.url, "--scenario", "smal"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario "smal" \(did you mean "small"\?\)/);
  });
});
