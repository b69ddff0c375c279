import { describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { EnvironmentInfo } from "../../src/harness/report/index.js";
import type { WindowPayload } from "../../src/harness/soak-run/entries.js";
import { gateDefs, metaLifetime, metaStart } from "../../src/harness/soak-run/meta.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import type { SoakProfile } from "../../src/harness/soak-run/profile-types.js";
import { runSegment } from "../../src/harness/soak-run/run-loop.js";
import { createFakeClock, createSimulatedServer, createSteppingClock } from "../../src/harness/soak-run/simulated.js";
import type { SimulatedServerOptions } from "../../src/harness/soak-run/simulated.js";
import { buildSoakReport } from "../../src/harness/soak-run/soak-report.js";
import { createSoakState } from "../../src/harness/soak-run/state.js";
import { computeVerdict } from "../../src/harness/soak-run/verdict.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };
const GATES = { "memory-growth": "memory_growth_pct < 20 || memory_growth_pct_low <= 0", "failure-rate": "failure_rate < 0.05", "latency-stability": "latency_max_consecutive_bad <= 2", canary: "canary_changed == 0" };

function profile(over: Partial<SoakProfile> = {}): SoakProfile {
  return { ...BUILTIN_PROFILE, windowMs: 5000, ratePerSecond: 10, concurrency: 4, memoryIntervalMs: 500, durationMs: 60_000, gates: GATES, ...over };
}

/**
 * `sendStallMs`: every tenth send blocks the harness this long (a harness that cannot keep up).
 * `stepping`: requests take their latency on the clock (they hold their slot), not no time at all.
 * `foreignPct(window)`: the share of the machine's CPU other processes used in that window.
 */
async function simulate(p: SoakProfile, server: SimulatedServerOptions, plannedMs = p.durationMs!, harness: { sendStallMs?: number; stepping?: boolean; foreignPct?: (window: number) => number } = {}) {
  const clock = harness.stepping ? createSteppingClock(1000) : createFakeClock(1000);
  const sim = createSimulatedServer({ ...server, ...(harness.stepping ? { clock } : {}) });
  let sends = 0;
  const send: typeof sim.send = (plan) => {
    if (harness.sendStallMs && ++sends % 10 === 0) clock.advance(harness.sendStallMs);
    return sim.send(plan);
  };
  const start = metaStart({ name: "t", startedAt: new Date("2025-01-01T00:00:00Z"), toolVersion: "0.1.0", plannedDurationMs: plannedMs, profile: p, target: { kind: "bundled", args: [], env: {} }, gates: gateDefs(p, []), environment: ENV });
  const state = createSoakState(start);
  state.add(metaLifetime(1, 0, new Date("2025-01-01T00:00:00Z"), "start", { pid: 1, command: null, model: null, memory: "rss+heap+external", memoryNote: "simulated" }));
  const windows: WindowPayload[] = [];
  const cpu = { totalTicks: 0, idleTicks: 0, ownTicks: 0 };
  let snapshots = 0;
  const cpuSnapshot = async () => {
    const window = snapshots++ - 1;
    if (window >= 0) {
      const foreign = harness.foreignPct!(window) * 10;
      cpu.totalTicks += 1000;
      cpu.ownTicks += 150;
      cpu.idleTicks += 1000 - 150 - foreign;
    }
    return { ...cpu };
  };
  const result = await runSegment(
    { profile: p, model: null, lifetime: 1, startRunMs: 0, endRunMs: plannedMs, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
    { clock, send, readMemory: sim.readMemory, ...(harness.foreignPct ? { cpuSnapshot } : {}), wallClock: () => new Date("2025-01-01T00:01:00Z"), onWindow: async (w) => { windows.push(w); state.add(w); } },
  );
  state.add({ type: "end", atMs: result.endRunMs, at: "2025-01-01T00:01:00.000Z" });
  const snap = state.snapshot();
  const verdict = computeVerdict(snap);
  return { result, windows, snap, verdict, report: buildSoakReport(snap, verdict), sim };
}

describe("soak-run loop, state and verdict (simulated server, fake clock)", () => {
  test("runs the planned duration in windows at the planned rate, one canary per window", async () => {
    const { result, windows, snap, sim } = await simulate(profile(), { seed: 1, noiseBytes: 200_000 });
    expect(result.interrupted).toBe(false);
    expect(windows.length).toBe(12);
    expect(windows.map((w) => w.record.index)).toEqual([...Array(12).keys()]);
    expect(snap.requests.total).toBeGreaterThanOrEqual(595);
    expect(snap.requests.total).toBeLessThanOrEqual(601);
    expect(snap.canary.total).toBe(12);
    expect(sim.requests()).toBe(snap.requests.total + snap.canary.total);
    for (const w of windows) expect(w.memory.length).toBeGreaterThanOrEqual(9);
    expect(snap.hist.repeat.count).toBeGreaterThan(100);
    expect(snap.hist.fresh.count + snap.hist.repeat.count).toBe(snap.requests.ok);
  });

  test("a clean simulated server is green and its report is valid", async () => {
    const { verdict, report } = await simulate(profile(), { seed: 2, noiseBytes: 300_000, warmupBytes: 20e6, warmupRequests: 60 });
    expect(verdict.invalid).toEqual([]);
    expect(verdict.memory.decisive?.verdict.verdict).toBe("pass");
    expect(report.verdict).toBe("pass");
    expect(validateReport(report)).toEqual([]);
    expect(report.series?.markers?.some((m) => m.label.startsWith("warm-up end"))).toBe(true);
    expect(report.series?.memoryFits?.map((f) => f.label)).toEqual(["Theil-Sen fit (95% slope interval)"]);
    expect(report.scenarios.map((s) => s.name)).toEqual(["soak", "soak-canary"]);
    expect(report.scenarios[1]!.latencyMs.count).toBe(12);
  });

  test("a leaking simulated server is red on the memory gate, with the slope's interval above zero", async () => {
    const { verdict, report } = await simulate(profile(), { seed: 3, noiseBytes: 300_000, leakBytesPerRequest: 512 * 1024 });
    expect(verdict.memory.decisive?.verdict.verdict).toBe("fail");
    expect(verdict.metrics.memory_growth_pct_low!).toBeGreaterThan(0);
    expect(report.verdict).toBe("fail");
    expect(report.gates.find((g) => g.id === "soak/memory-growth")?.verdict).toBe("fail");
    expect(report.gates.find((g) => g.id === "soak/failure-rate")?.verdict).toBe("pass");
  });

  test("a changed canary answer and failures over 5% turn their gates red", async () => {
    const { report, snap } = await simulate(profile(), { seed: 4, failEvery: 10, canaryAnswer: (n) => (n < 6 ? "2, 3, 5, 7, 11" : "2, 3, 5, 7, 13") });
    expect(snap.canary.changed).toBe(6);
    expect(snap.canary.firstChange?.text).toBe("2, 3, 5, 7, 13");
    const gate = (id: string) => report.gates.find((g) => g.id === id)?.verdict;
    expect(gate("soak/canary")).toBe("fail");
    expect(gate("soak/failure-rate")).toBe("fail");
    expect(report.scenarios[1]!.requests.wrongAnswers).toBe(6);
  });

  test("latency windows are judged per prompt-size class: a 20x slower long prompt is not instability, a detached tail is", async () => {
    const sized = await simulate(profile(), { seed: 8, promptCost: true });
    expect(sized.snap.hist.fresh.percentile(95)! / sized.snap.hist.fresh.percentile(50)!).toBeGreaterThan(2);
    expect(sized.verdict.latency.judged).toBeGreaterThanOrEqual(6);
    expect(sized.verdict.metrics.latency_max_consecutive_bad).toBe(0);
    expect(sized.report.gates.find((g) => g.id === "soak/latency-stability")?.verdict).toBe("pass");
    const tail = await simulate(profile(), { seed: 9, promptCost: true, slowShare: 0.12 });
    expect(tail.verdict.metrics.latency_max_consecutive_bad!).toBeGreaterThan(2);
    expect(tail.report.gates.find((g) => g.id === "soak/latency-stability")?.verdict).toBe("fail");
  });

  test("a run too short to fill a latency window is INVALID, not red, when a gate judges latency stability", async () => {
    const { verdict, report } = await simulate(profile({ ratePerSecond: 2, durationMs: 40_000 }), { seed: 10 });
    expect(verdict.latency.judged).toBe(0);
    expect(report.invalidReasons.join("\n")).toMatch(/no latency window after warm-up held 20 fresh requests/);
    expect(report.verdict).toBe("invalid");
  });

  test("with RSS only (no heap/external from the server) the verdict uses RSS and says so", async () => {
    const { verdict, snap } = await simulate(profile(), { seed: 5, externalBytes: null, noiseBytes: 100_000 });
    expect(snap.memory.withExternal).toBe(0);
    expect(verdict.memory.decisive?.measure).toBe("rss");
    expect(verdict.notes.join("\n")).toMatch(/RSS only/);
  });

  test("judges RSS alone: a leak of Node Buffers, which RSS already holds, counts once, not again as external", async () => {
    const MiB = 1024 * 1024;
    const { verdict } = await simulate(profile(), { seed: 12, noiseBytes: 50_000, leakBytesPerRequest: 64 * 1024, leakInExternal: true });
    const d = verdict.memory.decisive!;
    expect(d.measure).toBe("rss");
    // 10 requests/s (about 9 of them chat requests that leak, plus the canary) x 64 KiB = ~2.1 GiB/h; counted twice it would be ~4.2
    const leakMiBPerHour = (64 * 1024 * 10 * 3600) / MiB;
    expect(verdict.metrics.memory_slope_mb_per_h!).toBeGreaterThan(0.8 * leakMiBPerHour);
    expect(verdict.metrics.memory_slope_mb_per_h!).toBeLessThan(1.2 * leakMiBPerHour);
    expect(verdict.notes.join("\n")).toMatch(/memory: RSS \(holds weights, KV cache, V8 heap and Buffers\)/);
    expect(verdict.notes.join("\n")).toMatch(/diagnostics \(inside RSS, not judged\): V8 heap used [+-][\d.]+ MiB\/h, external [+-][\d.]+ MiB\/h/);
  });

  test("a harness that sends late (p99 lateness above the bound in too many windows) makes the run INVALID, not red or green", async () => {
    const late = await simulate(profile({ verdict: { ...BUILTIN_PROFILE.verdict, maxSendLatenessP99Ms: 50 } }), { seed: 13, latencyMs: 20 }, 60_000, { sendStallMs: 250 });
    expect(late.snap.lateness.laggingWindows).toBeGreaterThanOrEqual(2);
    expect(late.verdict.invalid.join("\n")).toMatch(/the harness sent late \(send lateness p99 > 50 ms\) in \d+ of \d+ windows/);
    expect(late.report.verdict).toBe("invalid");
    const onTime = await simulate(profile(), { seed: 13, latencyMs: 20 });
    expect(onTime.snap.lateness.measuredWindows).toBeGreaterThanOrEqual(11);
    expect(onTime.snap.lateness.laggingWindows).toBe(0);
    expect(onTime.verdict.invalid.join("\n")).not.toMatch(/sent late/);
  });

  test("the canary waits for a free slot like any request: never more than `concurrency` requests in flight, so none queues in the server", async () => {
    const clock = createSteppingClock();
    const sim = createSimulatedServer({ seed: 17, latencyMs: 60, clock });
    let inFlight = 0;
    let most = 0;
    const send: typeof sim.send = async (plan) => {
      most = Math.max(most, ++inFlight);
      try {
        return await sim.send(plan);
      } finally {
        inFlight--;
      }
    };
    const windows: WindowPayload[] = [];
    const p = profile({ concurrency: 1, ratePerSecond: 8 });
    await runSegment(
      { profile: p, model: null, lifetime: 1, startRunMs: 0, endRunMs: 30_000, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
      { clock, send, readMemory: sim.readMemory, onWindow: async (w) => void windows.push(w) },
    );
    expect(most).toBe(1);
    expect(windows.map((w) => w.record.canaries.total)).toEqual(windows.map(() => 1));
  });

  test("waiting for a free slot under the concurrency cap is the server's doing: it is not counted as the harness's lateness", async () => {
    // 10 requests/s, at most 1 in flight, each taking 300 ms: most sends wait for the slot
    const slow = await simulate(profile({ concurrency: 1 }), { seed: 14, latencyMs: 300 }, 60_000, { stepping: true });
    expect(slow.snap.requests.total).toBeLessThan(400);
    expect(slow.snap.lateness.laggingWindows).toBe(0);
    expect(slow.snap.lateness.maxP99Ms!).toBeLessThan(5);
    expect(slow.verdict.invalid.join("\n")).not.toMatch(/sent late/);
  });

  test("the report's series carry what the charts draw: the fitted line over the post-warm-up span with its interval, the canary lane per window, the judged latency ratios", async () => {
    const { report, verdict, windows } = await simulate(profile(), { seed: 15, noiseBytes: 100_000, leakBytesPerRequest: 20_000 });
    const d = verdict.memory.decisive!;
    const series = report.series!;
    expect(validateReport(report)).toEqual([]);
    const [fit] = series.memoryFits!;
    expect(fit!.label).toBe("Theil-Sen fit (95% slope interval)");
    expect(fit!.fromMs).toBe(d.verdict.warmup!.endX);
    expect(fit!.toMs).toBe(series.memory.at(-1)!.tMs);
    expect(fit!.toBytes).toBeGreaterThan(fit!.fromBytes);
    expect(fit!.lowToBytes!).toBeLessThanOrEqual(fit!.toBytes);
    expect(fit!.highToBytes!).toBeGreaterThanOrEqual(fit!.toBytes);
    expect(series.markers!.map((m) => m.label)).toContain("warm-up end");
    const canary = series.lanes!.find((l) => l.name === "soak-canary")!;
    expect(canary.points.length).toBe(windows.filter((w) => w.canary.latenciesMs.length > 0).length);
    expect(canary.points.every((p) => p.p50 !== null && p.p50 > 0)).toBe(true);
    expect(series.stability!.maxRatio).toBe(2);
    expect(series.stability!.classes.map((c) => c.label)).toEqual(["prompts of 1 sentence(s)", "prompts of 8 sentence(s)", "prompts of 32 sentence(s)"]);
    const judged = series.stability!.classes.reduce((a, c) => a + c.points.length, 0);
    expect(judged).toBeGreaterThanOrEqual(verdict.latency.judged);
  });

  test("records per window how much of the machine's CPU other processes used", async () => {
    const { windows, snap, report } = await simulate(profile(), { seed: 16 }, 60_000, { foreignPct: (w) => (w % 2 === 0 ? 10 : 30) });
    expect(windows.map((w) => w.host?.foreignCpuPct)).toEqual(windows.map((_, i) => (i % 2 === 0 ? 10 : 30)));
    expect(snap.host).toMatchObject({ measuredWindows: windows.length, noisyWindows: 0, maxForeignPct: 30 });
    expect(report.scenarios[0]!.notes.join("\n")).toMatch(/host: other processes used 20(\.0)?% of the machine's CPU on average \(max 30%\); 0 of 12 windows above 70%/);
    const none = await simulate(profile(), { seed: 16 });
    expect(none.windows.every((w) => w.host?.foreignCpuPct === null)).toBe(true);
    expect(none.report.scenarios[0]!.notes.join("\n")).toMatch(/host: other processes' CPU not measured/);
  });

  test("latency windows while other processes took most of the machine are not judged: a run disturbed throughout is INVALID, not red", async () => {
    const busy = await simulate(profile(), { seed: 9, promptCost: true, slowShare: 0.12 }, 60_000, { foreignPct: () => 80 });
    expect(busy.verdict.latency.judged).toBe(0);
    expect(busy.report.invalidReasons.join("\n")).toMatch(/other processes used more than 70% of the machine's CPU in \d+ of \d+ latency windows after warm-up: latency stability says more about them than about the server/);
    expect(busy.report.verdict).toBe("invalid");
  });

  test("a leak found on a busy machine is still red: latency left unjudged does not hide a failing memory gate", async () => {
    const leak = await simulate(profile(), { seed: 3, noiseBytes: 100_000, leakBytesPerRequest: 1024 * 1024 }, 60_000, { foreignPct: () => 90 });
    expect(leak.verdict.latencyInvalid.join("\n")).toMatch(/other processes used more than 70%/);
    expect(leak.report.gates.find((g) => g.id === "soak/memory-growth")?.verdict).toBe("fail");
    expect(leak.report.invalidReasons).toEqual([]);
    expect(leak.report.verdict).toBe("fail");
    expect(leak.report.scenarios[0]!.notes.join("\n")).toMatch(/latency stability not judged \(red on another gate regardless\): other processes used more than 70%/);
  });

  test("latency windows disturbed by other processes now and then are skipped; the rest are judged", async () => {
    const some = await simulate(profile(), { seed: 8, promptCost: true }, 60_000, { foreignPct: (w) => (w === 6 ? 90 : 5) });
    const all = await simulate(profile(), { seed: 8, promptCost: true });
    expect(some.verdict.latency.noisy).toBeGreaterThanOrEqual(1);
    expect(some.verdict.latency.judged).toBe(all.verdict.latency.judged - some.verdict.latency.noisy);
    expect(some.report.invalidReasons).toEqual([]);
    expect(some.report.verdict).toBe("pass");
  });

  test("a run that has not reached its end is INVALID (incomplete), whatever the gates say", async () => {
    const p = profile();
    const { snap } = await simulate(p, { seed: 6 }, 60_000);
    const open = { ...snap, ended: null };
    const v = computeVerdict(open);
    expect(v.invalid.join("\n")).toMatch(/incomplete.*--resume/);
    expect(buildSoakReport(open, v).verdict).toBe("invalid");
  });

  test("an abort stops the segment, flushes the partial window and reports it interrupted", async () => {
    const clock = createFakeClock();
    const sim = createSimulatedServer({ seed: 7 });
    const ac = new AbortController();
    const windows: WindowPayload[] = [];
    const p = profile();
    const r = await runSegment(
      { profile: p, model: null, lifetime: 1, startRunMs: 0, endRunMs: 60_000, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
      { clock, send: sim.send, readMemory: sim.readMemory, onWindow: async (w) => { windows.push(w); if (windows.length === 3) clock.advance(1200); if (clock.now() > 17_000) ac.abort(); }, signal: ac.signal },
    );
    expect(r.interrupted).toBe(true);
    expect(windows.length).toBeGreaterThanOrEqual(4);
    expect(windows.length).toBeLessThan(12);
    expect(windows.at(-1)!.partial).toBe(true);
  });
});
