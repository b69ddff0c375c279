import { describe, expect, test } from "vitest";
import type { EnvironmentInfo, RunReport } from "../../src/harness/report/index.js";
import { validateReport } from "../../src/harness/report/index.js";
import { createMemoryFs } from "../../src/harness/soak/memory-fs.js";
import type { MemoryFs } from "../../src/harness/soak/memory-fs.js";
import { parseJournal } from "../../src/harness/soak/index.js";
import { gateDefs, metaLifetime, metaStart } from "../../src/harness/soak-run/meta.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import type { SoakProfile } from "../../src/harness/soak-run/profile-types.js";
import { rebuildSoakReport } from "../../src/harness/soak-run/rebuild.js";
import { runSegment } from "../../src/harness/soak-run/run-loop.js";
import { JOURNAL_FILE, openSession } from "../../src/harness/soak-run/session.js";
import type { SoakSession } from "../../src/harness/soak-run/session.js";
import { createFakeClock, createSimulatedServer } from "../../src/harness/soak-run/simulated.js";
import type { SimulatedServerOptions } from "../../src/harness/soak-run/simulated.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };
const DIR = "/runs/soak-1";
const PROFILE: SoakProfile = {
  ...BUILTIN_PROFILE, windowMs: 5000, ratePerSecond: 10, concurrency: 4, memoryIntervalMs: 500, durationMs: 60_000,
  gates: { "memory-growth": "memory_growth_pct < 20 || memory_growth_pct_low <= 0", "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" },
};
const at = new Date("2025-01-01T00:00:00Z");
const server = { pid: 1, command: null, model: null, memory: "rss+heap+external" as const, memoryNote: "simulated" };

async function session(mem: MemoryFs, fresh: boolean, reports: RunReport[], profile = PROFILE): Promise<SoakSession> {
  const start = fresh ? metaStart({ name: "j", startedAt: at, toolVersion: "0.1.0", plannedDurationMs: 60_000, profile, target: { kind: "bundled", args: [], env: {} }, gates: gateDefs(PROFILE, []), environment: ENV }) : null;
  return openSession(DIR, start, { fs: mem.fs, writeReport: async (_dir, r) => void reports.push(r) });
}

/** Runs the segment from where the session stands, stopping after `stopAfter` windows (a crash or kill). */
async function segment(s: SoakSession, sim: SimulatedServerOptions, lifetime: number, stopAfter = Number.POSITIVE_INFINITY) {
  const snap = s.state.snapshot();
  await s.append(metaLifetime(lifetime, snap.windows.lastEndMs, at, lifetime === 1 ? "start" : "resume", server));
  const ac = new AbortController();
  let n = 0;
  const sv = createSimulatedServer(sim);
  const r = await runSegment(
    { profile: s.start.profile, model: null, lifetime, startRunMs: snap.windows.lastEndMs, endRunMs: 60_000, firstWindowIndex: snap.windows.lastIndex + 1, firstRequestIndex: snap.windows.nextRequestIndex, canaryReference: snap.canary.reference },
    { clock: createFakeClock(), send: sv.send, readMemory: sv.readMemory, signal: ac.signal, wallClock: () => at, onWindow: async (w) => { await s.append(w); await s.writeReports(); if (++n >= stopAfter) ac.abort(); } },
  );
  if (r.interrupted) await s.append({ type: "meta", event: "interrupted", atMs: r.endRunMs, at: at.toISOString(), reason: "SIGTERM" });
  else await s.append({ type: "end", atMs: r.endRunMs, at: at.toISOString() });
  await s.writeReports();
  return r;
}

describe("soak-run journal, rebuild and resume", () => {
  test("every window is one checksummed journal line; the report is rewritten after each window and a rebuild from the journal matches it", async () => {
    const mem = createMemoryFs();
    const reports: RunReport[] = [];
    const s = await session(mem, true, reports);
    await segment(s, { seed: 1, noiseBytes: 200_000 }, 1);
    await s.close();
    const journal = parseJournal(mem.get(`${DIR}/${JOURNAL_FILE}`)!);
    expect(journal.entries.map((e) => e.type)).toEqual(["meta", "meta", ...Array(12).fill("window"), "end"]);
    expect(reports.length).toBe(13);
    const live = reports.at(-1)!;
    expect(live.verdict).toBe("pass");
    const rebuilt = await rebuildSoakReport(DIR, { fs: mem.fs });
    const strip = (r: RunReport) => ({ ...r, scenarios: r.scenarios.map((x) => ({ ...x, notes: x.notes.filter((n) => !n.startsWith("report rebuilt")) })) });
    expect(strip(rebuilt.report)).toEqual(strip(live));
    expect(mem.get(`${DIR}/soak-verdict.json`)).toBeDefined();
  });

  test("a crash loses at most the current window: the journal keeps every closed one, the rebuilt report says incomplete", async () => {
    const mem = createMemoryFs();
    const s = await session(mem, true, []);
    await segment(s, { seed: 2 }, 1, 5);
    mem.crash();
    const rebuilt = await rebuildSoakReport(DIR, { fs: mem.fs });
    expect(rebuilt.report.verdict).toBe("invalid");
    expect(rebuilt.report.invalidReasons.join("\n")).toMatch(/incomplete/);
    expect(rebuilt.journal.entries).toBeGreaterThanOrEqual(2 + 5);
    expect(validateReport(rebuilt.report)).toEqual([]);
  });

  test("a torn last line is skipped and counted in the rebuilt report", async () => {
    const mem = createMemoryFs();
    const s = await session(mem, true, []);
    await segment(s, { seed: 3 }, 1, 4);
    await s.close();
    const path = `${DIR}/${JOURNAL_FILE}`;
    const whole = new TextDecoder().decode(mem.get(path)!);
    mem.set(path, `${whole}{"seq":99,"type":"window","lifet`);
    const rebuilt = await rebuildSoakReport(DIR, { fs: mem.fs });
    expect(rebuilt.journal.tornLines).toBe(1);
    expect(rebuilt.report.scenarios[0]!.notes.join("\n")).toMatch(/1 torn line skipped/);
  });

  test("--resume continues from the last window in a new server lifetime, marked, with memory judged per lifetime", async () => {
    const mem = createMemoryFs();
    const first = await session(mem, true, []);
    const r1 = await segment(first, { seed: 4, noiseBytes: 100_000, warmupBytes: 10e6, warmupRequests: 40 }, 1, 6);
    expect(r1.interrupted).toBe(true);
    await first.close();
    const path = `${DIR}/${JOURNAL_FILE}`;
    mem.set(path, `${new TextDecoder().decode(mem.get(path)!)}{"seq":1000,"ty`);

    const reports: RunReport[] = [];
    const resumed = await session(mem, false, reports);
    const before = resumed.state.snapshot();
    expect(before.windows.count).toBe(7);
    expect(before.windows.partial).toBe(1);
    expect(before.interruptions.map((i) => i.reason)).toEqual(["SIGTERM"]);
    const r2 = await segment(resumed, { seed: 5, noiseBytes: 100_000, warmupBytes: 10e6, warmupRequests: 40 }, 2);
    expect(r2.interrupted).toBe(false);
    const { report, verdict } = resumed.render();
    await resumed.close();
    const snap = resumed.state.snapshot();
    expect(snap.windows.count).toBeGreaterThanOrEqual(12);
    const indexes = parseJournal(mem.get(path)!).entries.filter((e) => e.type === "window").map((e) => (e as unknown as { record: { index: number } }).record.index);
    expect(indexes).toEqual([...indexes.keys()]);
    expect(report.series?.markers?.some((m) => /restarted \(resume\): lifetime 2/.test(m.label))).toBe(true);
    expect(report.series?.markers?.some((m) => /interrupted: SIGTERM/.test(m.label))).toBe(true);
    expect(report.verdict).toBe("pass");
    expect(verdict.memory.lifetimes.map((l) => l.lifetime)).toEqual([1, 2]);
    expect(report.scenarios[0]!.notes.join("\n")).toMatch(/1 torn line skipped \(an append cut short by a crash or kill; no entry is missing\)/);
    const after = await rebuildSoakReport(DIR, { fs: mem.fs });
    expect(after.journal).toMatchObject({ tornLines: 1, badLines: 0 });
    expect(after.report.scenarios[0]!.notes.join("\n")).not.toMatch(/damaged/);
    expect(snap.canary.changed).toBe(0);
    expect(report.environment.config.soak).toMatchObject({ lifetimes: [{ lifetime: 1, reason: "start" }, { lifetime: 2, reason: "resume" }] });
  });

  test("a leak in the first lifetime stays red after a resume whose restarted server starts low again", async () => {
    const mem = createMemoryFs();
    const first = await session(mem, true, []);
    await segment(first, { seed: 6, noiseBytes: 100_000, leakBytesPerRequest: 256 * 1024 }, 1, 8);
    await first.close();
    const resumed = await session(mem, false, []);
    await segment(resumed, { seed: 7, noiseBytes: 100_000, leakBytesPerRequest: 256 * 1024 }, 2);
    const { report, verdict } = resumed.render();
    expect(verdict.memory.decisive?.lifetime).toBe(1);
    expect(verdict.memory.decisive?.verdict.verdict).toBe("fail");
    expect(report.gates.find((g) => g.id === "soak/memory-growth")?.verdict).toBe("fail");
  });

  test("a lifetime too short to matter (mostly warm-up) cannot decide when a long one exists", async () => {
    const mem = createMemoryFs();
    const first = await session(mem, true, [], { ...PROFILE, memoryIntervalMs: 200 });
    // 2.x windows of a steep rise: its early slope projected over the run would look like a leak.
    await segment(first, { seed: 8, noiseBytes: 50_000, leakBytesPerRequest: 512 * 1024 }, 1, 2);
    await first.close();
    const resumed = await session(mem, false, []);
    await segment(resumed, { seed: 9, noiseBytes: 100_000 }, 2);
    const { verdict } = resumed.render();
    const [l1, l2] = verdict.memory.lifetimes;
    expect(l1!.fit!.toMs - l1!.fit!.fromMs).toBeLessThan(15_000);
    expect(l1!.verdict.verdict).toBe("fail");
    expect(verdict.memory.decisive?.lifetime).toBe(2);
    expect(verdict.memory.decisive?.verdict.verdict).toBe("pass");
    expect(l2!.fit!.toMs - l2!.fit!.fromMs).toBeGreaterThanOrEqual(15_000);
  });

  test("a new run refuses a folder that already has a journal", async () => {
    const mem = createMemoryFs();
    mem.set(`${DIR}/${JOURNAL_FILE}`, "x\n");
    await expect(session(mem, true, [])).rejects.toThrow(/already exists.*--resume/);
  });
});
