/**
 * The intermittent-faults idea against a real server: its engine wrapped in the fault decorator
 * fails a fixed share of generations; the stress run counts every failure, checks every other
 * answer against its reference, and still meets its success gate.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runStressCommand } from "../../src/cli/stress.js";
import { withFaults, type FaultyEngine } from "../../src/engine/faulty-engine.js";
import type { Engine } from "../../src/engine/types.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { startTestServer, startTinyEngine, type TestServer } from "../helpers/tiny-server.js";

let inner: Engine;
let engine: FaultyEngine;
let server: TestServer;

beforeAll(async () => {
  inner = await startTinyEngine({ slots: 2 });
  engine = withFaults(inner, { rate: 0.1, seed: 5 });
  // No response cache: every request must reach the (faulty) engine.
  server = await startTestServer({ slots: 2, cache: { enabled: false } }, { listen: true, engine });
}, 60_000);
afterAll(async () => {
  await server?.app.close();
  await inner?.close();
});

describe("stress run against a server with injected faults", () => {
  test("counts the failures, checks the other answers and meets the success gate", async () => {
    const load = mkdtempSync(join(tmpdir(), "gauntlet-faults-load-"));
    mkdirSync(join(load, "scenarios"));
    writeFileSync(join(load, "scenarios", "faulty.json"), JSON.stringify({
      name: "faulty", description: "10% of generations fail", requests: 60, connections: 3, prompt: "Faulty {i}", distinctPrompts: 6, maxTokens: 4,
    }));
    writeFileSync(join(load, "thresholds.json"), JSON.stringify({
      defaults: { success: "success_rate >= 0.80", correct: "wrong_answers == 0" },
      validity: { maxEventLoopDelayP99Ms: 100_000, littlesLawTolerancePct: 1000 },
    }));
    const out = mkdtempSync(join(tmpdir(), "gauntlet-faults-out-"));
    const lines: string[] = [];
    const io = { stdout: (l: string) => lines.push(l), stderr: (l: string) => lines.push(l), progress: () => undefined, isTTY: false };
    const before = engine.faultStats();
    const code = await runStressCommand(["--target", server.url, "--load", load, "--out", out], {}, io);
    const after = engine.faultStats();
    const report = JSON.parse(readFileSync(join(out, "latest", "report.json"), "utf8")) as RunReport;
    const s = report.scenarios[0]!;
    expect(code, lines.join("\n")).toBe(0);
    expect(after.calls - before.calls).toBe(s.requests.total + 6 + (after.faults - before.faults - s.requests.failed));
    expect(s.requests.failed).toBeGreaterThan(0);
    expect(s.errorsByKind).toEqual({ "http-500": s.requests.failed });
    expect(s.requests).toMatchObject({ total: 60, wrongAnswers: 0, ok: 60 - s.requests.failed });
    expect(report.gates.find((g) => g.id === "faulty/success")?.verdict).toBe("pass");
  });
});
