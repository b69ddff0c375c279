/**
 * Resuming a --target soak: the harness did not start that server and cannot restart it, so the
 * resumed segment continues the same server lifetime (one memory series, one fit) instead of
 * recording a new one; the journal and the charts mark where it resumed.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { systemClock } from "../../src/harness/load/clock.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { parseJournal } from "../../src/harness/soak/index.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import type { SoakProfile } from "../../src/harness/soak-run/profile-types.js";
import { silentSoakProgress } from "../../src/harness/soak-run/progress.js";
import { runSoak } from "../../src/harness/soak-run/run-soak.js";
import type { SoakOutcome } from "../../src/harness/soak-run/run-soak.js";
import { startTestServer } from "../helpers/tiny-server.js";
import type { TestServer } from "../helpers/tiny-server.js";

const profile: SoakProfile = {
  ...BUILTIN_PROFILE, name: "target", durationMs: 8000, windowMs: 2000, ratePerSecond: 5, concurrency: 1, memoryIntervalMs: 200,
  workload: { ...BUILTIN_PROFILE.workload, promptSizes: [1], maxTokens: 4 },
  gates: { "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" },
};

let server: TestServer;
let first: SoakOutcome;
let second: SoakOutcome;
let entries: ReturnType<typeof parseJournal>["entries"];

beforeAll(async () => {
  server = await startTestServer({ slots: 1 }, { listen: true });
  const common = { binPath: "unused", parentEnv: {}, clock: systemClock, toolVersion: "0", cwd: process.cwd() };
  const ac = new AbortController();
  let windows = 0;
  first = await runSoak({
    ...common,
    mode: { kind: "new", name: "target", profile, plannedDurationMs: 8000, target: { kind: "target", baseUrl: server.url }, extraGates: [], outRoot: mkdtempSync(join(tmpdir(), "soak-target-")) },
    progress: { ...silentSoakProgress, window: () => { if (++windows === 2) ac.abort("SIGTERM"); } },
    signal: ac.signal,
  });
  second = await runSoak({ ...common, mode: { kind: "resume", runDir: first.runDir }, progress: silentSoakProgress });
  entries = parseJournal(readFileSync(join(first.runDir, "journal.jsonl"))).entries;
}, 60_000);

afterAll(async () => {
  await server?.app.close();
});

describe("gauntlet soak --resume of a --target run", () => {
  test("continues the same server lifetime: one lifetime entry, every window in lifetime 1", () => {
    expect(first.interrupted).toBe(true);
    expect(second.interrupted).toBe(false);
    expect(entries.filter((e) => e.event === "lifetime")).toHaveLength(1);
    const windows = entries.filter((e) => e.type === "window") as unknown as { lifetime: number; record: { index: number } }[];
    expect(windows.map((w) => w.lifetime).every((l) => l === 1)).toBe(true);
    expect(windows.map((w) => w.record.index)).toEqual([...windows.keys()]);
    expect(entries.at(-1)!.type).toBe("end");
  });

  test("journals and charts where it resumed", () => {
    const resumed = entries.filter((e) => e.event === "resumed");
    expect(resumed).toHaveLength(1);
    const report: RunReport = JSON.parse(readFileSync(join(first.runDir, "report.json"), "utf8")) as RunReport;
    expect(report.series!.markers!.map((m) => m.label)).toContain("resumed (same --target server)");
    expect((report.environment.config.soak as { lifetimes: unknown[] }).lifetimes).toHaveLength(1);
  });
});
