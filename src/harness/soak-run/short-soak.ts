/**
 * The short soak of `gauntlet gate`: the `gate` preset of load/soak-profiles.json (36 s, 4 s windows,
 * 8 requests/s) with the soak's gates, as a Stage of the gate's run (src/harness/runner/stage.ts):
 * its scenarios ("soak", "soak-canary"), gates ("soak/..."), series and validity findings go into
 * the gate's one report and exit code. It shares a running server when given one (its memory is
 * then judged from where the server stands, already warm), else starts its own bundled server with
 * the preset's arguments (the small model on one slot: see the preset's $comment); measured 40-47 s
 * of wall time on a 2-core VM, start and stop included. No journal: a gate run is short and rerun whole.
 */
import http from "node:http";
import { parseGate } from "../gates/index.js";
import { sendChat } from "../load/chat-client.js";
import { cpuSnapshot } from "../load/cpu-usage.js";
import type { Clock } from "../load/clock.js";
import type { RequestRecord } from "../load/types.js";
import type { ModelInfo, RunReport } from "../report/types.js";
import { childEnvironment, startBundledServer } from "../runner/bundled-server.js";
import type { BundledServer, BundledServerOptions } from "../runner/bundled-server.js";
import { collectEnvironment } from "../runner/environment.js";
import type { ProgressSink } from "../runner/progress.js";
import type { Stage, StageResult } from "../runner/stage.js";
import type { PlannedRequest } from "../scenarios/plan.js";
import { startLoopDelayProbe } from "./loop-delay.js";
import { gateDefs, metaLifetime, metaStart } from "./meta.js";
import type { SoakProfile } from "./profile-types.js";
import { loadSoakProfiles, resolveProfile } from "./profiles.js";
import { formatWindowLine } from "./progress.js";
import { runSegment } from "./run-loop.js";
import type { ServerMemoryReading } from "./run-loop.js";
import { createServerMemoryReader, httpMemoryDeps } from "./server-memory.js";
import { SOAK_SCENARIO, buildSoakReport, soakMetrics } from "./soak-report.js";
import { createSoakState } from "./state.js";
import { computeVerdict } from "./verdict.js";

export interface SharedServer {
  baseUrl: string;
  pid: number | null;
  /** Every process of the server, for the machine's CPU used by others (default [pid]). */
  pids?: number[];
  model: ModelInfo | null;
}

export interface ShortSoakOptions {
  profile: SoakProfile;
  extraGates?: string[];
  /** The gate's running server to share; null/absent: start (and stop) a bundled one. */
  server?: SharedServer | null;
  binPath: string;
  parentEnv: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  /** The gate run's clock origin: series and markers are placed on its time line. */
  origin: number;
  progress: Pick<ProgressSink, "line">;
  signal?: AbortSignal;
  startServer?: (o: BundledServerOptions) => Promise<BundledServer>;
  /** Test seam: requests and memory without HTTP. */
  transport?: { send: (plan: PlannedRequest) => Promise<RequestRecord>; readMemory: () => Promise<ServerMemoryReading | null> };
}

/** The `gate` preset from DIR/soak-profiles.json. */
export async function loadGateSoakProfile(loadDir: string, preset = "gate"): Promise<{ ok: true; profile: SoakProfile } | { ok: false; error: string }> {
  const loaded = await loadSoakProfiles(loadDir);
  if (!loaded.ok) return { ok: false, error: loaded.errors.join("\n") };
  const r = resolveProfile(loaded.profiles, preset);
  if (!r.ok) return { ok: false, error: r.error };
  return r.profile.durationMs === null ? { ok: false, error: `preset ${preset} has no duration` } : { ok: true, profile: r.profile };
}

export async function runShortSoak(o: ShortSoakOptions): Promise<StageResult> {
  const { profile, clock } = o;
  const planned = profile.durationMs ?? 36_000;
  let own: BundledServer | null = null;
  let server = o.server ?? null;
  if (server === null && !o.transport) {
    o.progress.line("short soak: starting the bundled server");
    own = await (o.startServer ?? startBundledServer)({ binPath: o.binPath, args: profile.server.args, env: childEnvironment(o.parentEnv, profile.server.env) });
    server = { baseUrl: own.baseUrl, pid: own.pid, pids: own.pids, model: own.model };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: profile.concurrency + 2 });
  const probe = startLoopDelayProbe();
  try {
    const reader = o.transport ? { read: o.transport.readMemory, detail: "rss+heap+external" as const, note: "test transport" } : await createServerMemoryReader(httpMemoryDeps(server!.baseUrl, server!.pid));
    const send = o.transport?.send ?? ((plan: PlannedRequest) => sendChat({ baseUrl: server!.baseUrl, agent, timeoutMs: profile.requestTimeoutMs, now: () => clock.now() }, plan));
    const environment = await collectEnvironment({ cwd: process.cwd(), model: server?.model ?? null, config: {} });
    const start = metaStart({ name: "gate-soak", startedAt: new Date(), toolVersion: "0", plannedDurationMs: planned, profile, target: { kind: "bundled", args: profile.server.args, env: profile.server.env }, gates: gateDefs(profile, o.extraGates ?? []), environment });
    const state = createSoakState(start);
    state.add(metaLifetime(1, 0, new Date(), "start", { pid: server?.pid ?? null, command: own?.command ?? null, model: server?.model ?? null, memory: reader.detail, memoryNote: `${reader.note}${o.server ? " (the gate's server, shared)" : ""}` }));
    const offset = clock.now() - o.origin;
    const serverPids = server?.pids ?? (server?.pid != null ? [server.pid] : []);
    o.progress.line(`short soak: ${planned / 1000} s at ${profile.ratePerSecond ?? "closed-loop"} requests/s in ${profile.windowMs / 1000} s windows`);
    const r = await runSegment(
      { profile, model: server?.model?.id ?? null, lifetime: 1, startRunMs: 0, endRunMs: planned, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
      {
        clock, send, readMemory: reader.read, loopDelayMs: probe.read, ...(o.signal ? { signal: o.signal } : {}),
        ...(serverPids.length > 0 && !o.transport ? { cpuSnapshot: () => cpuSnapshot([process.pid, ...serverPids]) } : {}),
        onWindow: async (w) => {
          state.add(w);
          const rec = w.record;
          o.progress.line(`short soak ${formatWindowLine({ index: rec.index, plannedWindows: Math.ceil(planned / profile.windowMs), endMs: rec.endMs, plannedMs: planned, requests: rec.requests.total, failed: rec.requests.failed, p50: rec.e2eMs.p50, p95: rec.e2eMs.p95, rssBytes: w.memory.at(-1)?.[1] ?? null, trendMbPerH: null, canary: rec.canaries.failed > 0 ? "failed" : rec.canaries.ok > 0 ? "ok" : "none" })}`);
        },
      },
    );
    if (!r.interrupted) state.add({ type: "end", atMs: r.endRunMs, at: new Date().toISOString() });
    const snapshot = state.snapshot();
    const verdict = computeVerdict(snapshot);
    const report: RunReport = buildSoakReport(snapshot, verdict);
    const shift = <T extends { tMs: number }>(xs: readonly T[]): T[] => xs.map((x) => ({ ...x, tMs: x.tMs + offset }));
    const metrics = soakMetrics(snapshot, verdict, report.scenarios[0]!);
    return {
      scenarios: report.scenarios.map((sr) => ({ report: sr, metrics: sr.name === SOAK_SCENARIO ? metrics : {}, invalid: [], series: [], markers: [], memory: [] })),
      gates: start.gates.map((g) => ({ id: g.id, scenario: SOAK_SCENARIO, gate: parseGate(g.expression) })),
      runMetrics: {},
      invalid: report.invalidReasons.map((x) => `short soak: ${x.replace(/; continue it with .*$/, "")}`),
      memory: shift(report.series?.memory ?? []),
      latency: shift(report.series?.latency ?? []),
      markers: [{ tMs: offset, label: "short soak starts" }, ...shift(report.series?.markers ?? []).map((m) => ({ ...m, label: `soak ${m.label}`.slice(0, 48) }))],
      model: server?.model ?? null,
      config: { profile, sharedServer: o.server != null, memory: reader.note },
    };
  } finally {
    probe.stop();
    agent.destroy();
    if (own) await own.stop();
  }
}

type StageOptions = Omit<ShortSoakOptions, "clock" | "origin" | "progress" | "signal">;

/** The gate's extension point (src/cli/gate.ts gateStages()): a Stage that runs the short soak. */
export function shortSoakStage(o: StageOptions): Stage {
  return {
    name: "soak",
    run: (ctx) => runShortSoak({ ...o, clock: ctx.clock, origin: ctx.origin, progress: ctx.progress, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
  };
}

/**
 * shortSoakStage for a synchronous stage list: reads the preset (default `gate`) of
 * <loadDir>/soak-profiles.json when the stage runs; a missing or broken file fails the stage (the
 * gate's run then records "stage soak failed: ..." and is INVALID).
 */
export function shortSoakStageFromLoadDir(o: Omit<StageOptions, "profile"> & { loadDir: string; preset?: string }): Stage {
  const { loadDir, preset, ...rest } = o;
  return {
    name: "soak",
    async run(ctx) {
      const loaded = await loadGateSoakProfile(loadDir, preset);
      if (!loaded.ok) throw new Error(`short soak: ${loaded.error}`);
      return shortSoakStage({ ...rest, profile: loaded.profile }).run(ctx);
    },
  };
}
