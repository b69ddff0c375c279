/**
 * `gauntlet stress` end to end as a user runs it: the CLI as a child process, which starts the
 * bundled server as its own child process, runs two short scenarios and writes the reports.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, test } from "vitest";
import { runReportCommand } from "../../src/cli/report.js";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { chartCount } from "../../src/harness/report/html.js";
import { render, requireChromium } from "../helpers/chromium.js";
import { runCli } from "../helpers/run-cli.js";

const XSD = join(process.cwd(), "tests", "fixtures", "junit.xsd");

const run = (args: string[], env: Record<string, string>, timeoutMs = 120_000) => runCli(args, { env, timeoutMs });

/** A load directory with two small scenarios and gates that a busy shared machine still meets. */
function loadDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gauntlet-e2e-load-"));
  mkdirSync(join(dir, "scenarios"));
  const common = { connections: 2, temperature: 0, check: "reference", server: { args: ["--no-cache", "--slots", "2"] } };
  writeFileSync(join(dir, "scenarios", "e2e-plain.json"), JSON.stringify({ ...common, name: "e2e-plain", description: "plain answers", requests: 8, prompt: "E2E plain {i}", distinctPrompts: 4, maxTokens: 6 }));
  writeFileSync(join(dir, "scenarios", "e2e-stream.json"), JSON.stringify({ ...common, name: "e2e-stream", description: "streamed answers", stream: true, requests: 8, prompt: "E2E stream {i}", distinctPrompts: 4, maxTokens: 6 }));
  writeFileSync(join(dir, "thresholds.json"), JSON.stringify({
    defaults: { success: "success_rate >= 0.90", correct: "wrong_answers == 0", memory: "memory_start_mb > 0" },
    scenarios: { "e2e-stream": { ttft: "ttft.count >= ok && itl.count > 0" } },
    validity: { maxEventLoopDelayP99Ms: 100_000, maxForeignCpuPct: 100, littlesLawTolerancePct: 1000 },
  }));
  return dir;
}

let result: { code: number | null; stdout: string; stderr: string };
let out: string;
let summary: string;
let report: RunReport;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "gauntlet-e2e-out-"));
  summary = join(out, "step-summary.md");
  result = await run(["stress", "--load", loadDir(), "--out", out, "--name", "e2e"], { GITHUB_STEP_SUMMARY: summary });
  report = JSON.parse(readFileSync(join(out, "latest", "report.json"), "utf8")) as RunReport;
}, 180_000);

describe("gauntlet stress against the bundled server", () => {
  test("exits 0 with one ✅ line per gate and says where the reports are", () => {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✅ e2e-plain\/success: success_rate >= 0\.90/);
    expect(result.stdout).toMatch(/✅ stress\/server-started/);
    expect(result.stdout).toMatch(/gauntlet stress: ✅ PASS/);
    expect(result.stderr).toMatch(/starting the bundled server for e2e-plain, e2e-stream/);
  });

  test("writes a report.json that passes validateReport, with the model, memory samples and every scenario", () => {
    expect(validateReport(report)).toEqual([]);
    const check = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(process.cwd(), "docs", "report.schema.json"), "utf8")) as object);
    expect(check(report), JSON.stringify(check.errors)).toBe(true);
    expect(report.scenarios[0]?.metrics).toMatchObject({ memory_growth_pct: expect.any(Number), success_rate: 1, timing_mismatches: expect.any(Number), littles_law_error_pct: expect.any(Number) });
    expect(report).toMatchObject({ kind: "stress", name: "e2e", verdict: "pass" });
    expect(report.environment.model).toMatchObject({ id: "gauntlet-tiny", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(report.scenarios.map((s) => [s.name, s.requests.total, s.requests.ok])).toEqual([["e2e-plain", 8, 8], ["e2e-stream", 8, 8]]);
    expect(report.scenarios[1]?.ttftMs?.count).toBe(8);
    expect(report.series?.memory.length).toBeGreaterThan(0);
    expect(readlinkSync(join(out, "latest"))).toMatch(/-e2e$/);
  });

  test("writes a junit.xml that xmllint validates against the JUnit schema", () => {
    const lint = spawnSync("xmllint", ["--noout", "--schema", XSD, join(out, "latest", "junit.xml")], { encoding: "utf8" });
    expect(lint.status, lint.stderr).toBe(0);
  });

  test("its report.html works offline in headless Chromium: every chart drawn, no console output", (ctx) => {
    requireChromium(ctx);
    const copy = mkdtempSync(join(tmpdir(), "gauntlet-e2e-html-"));
    const { body, console: lines } = render(copy, pathToFileURL(join(out, "latest", "report.html")).href);
    expect(lines).toEqual([]);
    expect(body["data-errors"]).toBeUndefined();
    expect(Number(body["data-charts-drawn"])).toBe(chartCount(report));
    expect(chartCount(report)).toBeGreaterThanOrEqual(2);
  });

  test("appends the markdown report to GITHUB_STEP_SUMMARY", () => {
    expect(readFileSync(summary, "utf8")).toMatch(/# ✅ PASS · stress · e2e/);
  });

  test("gauntlet report re-renders the run directory from its report.json", async () => {
    const dir = join(out, "latest");
    writeFileSync(join(dir, "report.md"), "stale");
    const lines: string[] = [];
    expect(await runReportCommand([dir], { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l) })).toBe(0);
    expect(readFileSync(join(dir, "report.md"), "utf8")).toMatch(/# ✅ PASS · stress · e2e/);
  });
});
