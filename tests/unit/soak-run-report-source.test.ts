import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { reportJsonSource, runReportCommand } from "../../src/cli/report.js";
import type { EnvironmentInfo, RunReport } from "../../src/harness/report/index.js";
import { gateDefs, metaLifetime, metaStart } from "../../src/harness/soak-run/meta.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import { createSoakJournalSource } from "../../src/harness/soak-run/rebuild.js";
import { runSegment } from "../../src/harness/soak-run/run-loop.js";
import { openSession } from "../../src/harness/soak-run/session.js";
import { createFakeClock, createSimulatedServer } from "../../src/harness/soak-run/simulated.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };

async function crashedRun(dir: string): Promise<void> {
  const profile = { ...BUILTIN_PROFILE, windowMs: 2000, ratePerSecond: 10, memoryIntervalMs: 200, durationMs: 20_000, gates: { "failure-rate": "failure_rate < 0.05" } };
  const s = await openSession(dir, metaStart({ name: "x", startedAt: new Date(), toolVersion: "0", plannedDurationMs: 20_000, profile, target: { kind: "bundled", args: [], env: {} }, gates: gateDefs(profile, []), environment: ENV }), { writeReport: async () => undefined });
  await s.append(metaLifetime(1, 0, new Date(), "start", { pid: 1, command: null, model: null, memory: "rss+heap+external", memoryNote: "sim" }));
  const sim = createSimulatedServer({ seed: 1 });
  const ac = new AbortController();
  let n = 0;
  await runSegment(
    { profile, model: null, lifetime: 1, startRunMs: 0, endRunMs: 20_000, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
    { clock: createFakeClock(), send: sim.send, readMemory: sim.readMemory, signal: ac.signal, onWindow: async (w) => { await s.append(w); if (++n === 4) ac.abort(); } },
  );
  await s.close(); // no report written, no interrupted entry: as after kill -9
}

describe("soak-run report source (gauntlet report <run-dir>)", () => {
  test("rebuilds report.json from the journal of a run that died before writing any report, then renders the rest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "soak-source-"));
    await crashedRun(dir);
    expect(existsSync(join(dir, "report.json"))).toBe(false);
    const out: string[] = [];
    const code = await runReportCommand([dir], { stdout: (l) => out.push(l), stderr: (l) => out.push(l) }, [createSoakJournalSource(), reportJsonSource]);
    expect(code, out.join("\n")).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as RunReport;
    expect(report.kind).toBe("soak");
    expect(report.verdict).toBe("invalid");
    expect(report.invalidReasons.join(" ")).toMatch(/incomplete/);
    for (const f of ["report.md", "junit.xml", "report.html", "soak-verdict.json"]) expect(existsSync(join(dir, f)), f).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a directory without a journal is left to the next source; a journal without a start entry throws the command's error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "soak-source-"));
    class Wrapped extends Error {}
    const source = createSoakJournalSource((m) => new Wrapped(m));
    expect(await source.load(dir)).toBeNull();
    writeFileSync(join(dir, "journal.jsonl"), "garbage\n");
    await expect(source.load(dir)).rejects.toBeInstanceOf(Wrapped);
    await expect(source.load(dir)).rejects.toThrow(/no start entry/);
    rmSync(dir, { recursive: true, force: true });
  });
});
