/**
 * `gauntlet soak` end to end: a new run (start the bundled server or probe the --target, write the
 * journal's start entry, run to the planned end) or a resume (read the journal, restart the bundled
 * server as a new lifetime, continue from the last window). Every window is journaled, folded and
 * the reports rewritten; a signal stops after the current window is journaled.
 */
import { mkdir } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { sendChat } from "../load/chat-client.js";
import { cpuSnapshot } from "../load/cpu-usage.js";
import type { Clock } from "../load/clock.js";
import { appendGithubSummary, toMarkdown } from "../report/index.js";
import type { ModelInfo, RunReport } from "../report/types.js";
import { childEnvironment, startBundledServer } from "../runner/bundled-server.js";
import type { BundledServer, BundledServerOptions } from "../runner/bundled-server.js";
import { collectEnvironment } from "../runner/environment.js";
import { runStamp } from "../runner/run-gauntlet.js";
import { probeTarget } from "../runner/target.js";
import { nodeSoakFs, readJournal } from "../soak/index.js";
import type { SoakTarget, WindowPayload } from "./entries.js";
import { startLoopDelayProbe } from "./loop-delay.js";
import { gateDefs, metaLifetime, metaStart } from "./meta.js";
import type { SoakProfile } from "./profile-types.js";
import type { SoakProgress, WindowLine } from "./progress.js";
import { runSegment } from "./run-loop.js";
import { createServerMemoryReader, httpMemoryDeps } from "./server-memory.js";
import { JOURNAL_FILE, openSession } from "./session.js";
import type { SoakSession } from "./session.js";

export interface NewSoak {
  kind: "new";
  name: string;
  profile: SoakProfile;
  plannedDurationMs: number;
  target: { kind: "bundled" } | { kind: "target"; baseUrl: string };
  extraGates: string[];
  outRoot: string;
}

export interface ResumeSoak {
  kind: "resume";
  runDir: string;
}

export interface RunSoakOptions {
  mode: NewSoak | ResumeSoak;
  binPath: string;
  parentEnv: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  progress: SoakProgress;
  signal?: AbortSignal;
  toolVersion: string;
  cwd: string;
  githubSummaryPath?: string | null;
  startServer?: (o: BundledServerOptions) => Promise<BundledServer>;
}

export interface SoakOutcome {
  report: RunReport;
  runDir: string;
  exitCode: 0 | 1 | 2;
  interrupted: boolean;
}

/** Misuse found only once the run directory is read (e.g. resuming a finished run): exit 2. */
export class SoakUsageError extends Error {}

interface Connection {
  baseUrl: string;
  pid: number | null;
  /** Every process of the server (for the machine's CPU used by others); empty for a --target. */
  pids: number[];
  model: ModelInfo | null;
  modelId: string | null;
  command: string[] | null;
  stop(): Promise<void>;
}

async function connect(target: SoakTarget, o: RunSoakOptions): Promise<Connection> {
  if (target.kind === "target") {
    const probe = await probeTarget(target.baseUrl);
    return { baseUrl: target.baseUrl, pid: null, pids: [], model: null, modelId: probe.modelId, command: null, stop: async () => undefined };
  }
  o.progress.line("starting the bundled server");
  const start = o.startServer ?? startBundledServer;
  const s = await start({ binPath: o.binPath, args: target.args, env: childEnvironment(o.parentEnv, target.env) });
  return {
    baseUrl: s.baseUrl, pid: s.pid, pids: s.pids, model: s.model, modelId: s.model?.id ?? null, command: s.command,
    stop: async () => {
      const code = await s.stop();
      o.progress.line(`stopped the bundled server (exit ${code ?? "signal"})`);
    },
  };
}

function windowLine(w: WindowPayload, plannedMs: number, profile: SoakProfile, trendMbPerH: number | null): WindowLine {
  const r = w.record;
  const c = r.canaries;
  return {
    index: r.index, plannedWindows: Math.ceil(plannedMs / profile.windowMs), endMs: r.endMs, plannedMs,
    requests: r.requests.total, failed: r.requests.failed, p50: r.e2eMs.p50, p95: r.e2eMs.p95,
    rssBytes: w.memory.at(-1)?.[1] ?? null, trendMbPerH,
    canary: (c.failures.changed ?? 0) > 0 ? "changed" : c.failed > 0 ? "failed" : c.ok > 0 ? "ok" : "none",
  };
}

/**
 * Runs a segment to the planned end or an interruption; appends its end or interruption. A new run
 * and a resume that restarted the bundled server begin a server lifetime (its memory starts cold);
 * a resumed --target was never stopped by the harness, so its lifetime continues (marked "resumed").
 */
async function runLifetime(session: SoakSession, conn: Connection, reason: "start" | "resume", o: RunSoakOptions): Promise<boolean> {
  const { profile, plannedDurationMs } = session.start;
  const snap = session.state.snapshot();
  const previous = snap.lifetimes.at(-1);
  const continues = reason === "resume" && session.start.target.kind === "target" && previous !== undefined;
  const lifetime = continues ? previous.lifetime : snap.lifetimes.length + 1;
  const reader = await createServerMemoryReader(httpMemoryDeps(conn.baseUrl, conn.pid));
  if (continues) await session.append({ type: "meta", event: "resumed", atMs: snap.windows.lastEndMs, at: new Date().toISOString(), lifetime });
  else await session.append(metaLifetime(lifetime, snap.windows.lastEndMs, new Date(), reason, { pid: conn.pid, command: conn.command, model: conn.model, memory: reader.detail, memoryNote: reader.note }));
  if (reader.detail !== "rss+heap+external") o.progress.line(`server memory: ${reader.note}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: profile.concurrency + 2 });
  const probe = startLoopDelayProbe();
  try {
    const r = await runSegment(
      { profile, model: conn.modelId, lifetime, startRunMs: snap.windows.lastEndMs, endRunMs: plannedDurationMs, firstWindowIndex: snap.windows.lastIndex + 1, firstRequestIndex: snap.windows.nextRequestIndex, canaryReference: snap.canary.reference },
      {
        clock: o.clock,
        send: (plan) => sendChat({ baseUrl: conn.baseUrl, agent, timeoutMs: profile.requestTimeoutMs, now: () => o.clock.now() }, plan),
        readMemory: reader.read,
        loopDelayMs: probe.read,
        ...(conn.pids.length > 0 ? { cpuSnapshot: () => cpuSnapshot([process.pid, ...conn.pids]) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onTick: (s) => o.progress.tick(s),
        onWindow: async (w) => {
          await session.append(w);
          const { verdict } = await session.writeReports();
          o.progress.window(windowLine(w, plannedDurationMs, profile, verdict.metrics.memory_slope_mb_per_h ?? null));
        },
      },
    );
    if (r.interrupted) await session.append({ type: "meta", event: "interrupted", atMs: r.endRunMs, at: new Date().toISOString(), reason: String(o.signal?.reason ?? "signal") });
    else await session.append({ type: "end", atMs: r.endRunMs, at: new Date().toISOString() });
    return r.interrupted;
  } finally {
    probe.stop();
    agent.destroy();
  }
}

async function newSession(m: NewSoak, conn: Connection, o: RunSoakOptions): Promise<SoakSession> {
  const startedAt = new Date();
  const runDir = join(m.outRoot, `${runStamp(startedAt)}-${m.name}`);
  await mkdir(runDir, { recursive: true });
  const target: SoakTarget = m.target.kind === "bundled" ? { kind: "bundled", args: m.profile.server.args, env: m.profile.server.env } : m.target;
  const gates = gateDefs(m.profile, m.extraGates);
  const environment = await collectEnvironment({ cwd: o.cwd, model: conn.model, config: { command: "soak", profile: m.profile, target, plannedDurationMs: m.plannedDurationMs, gates } });
  const start = metaStart({ name: m.name, startedAt, toolVersion: o.toolVersion, plannedDurationMs: m.plannedDurationMs, profile: m.profile, target, gates, environment });
  return openSession(runDir, start);
}

export async function runSoak(o: RunSoakOptions): Promise<SoakOutcome> {
  let session: SoakSession;
  let conn: Connection | null = null;
  let reason: "start" | "resume";
  if (o.mode.kind === "new") {
    const m = o.mode;
    conn = await connect(m.target.kind === "bundled" ? { kind: "bundled", args: m.profile.server.args, env: m.profile.server.env } : m.target, o);
    try {
      session = await newSession(m, conn, o);
    } catch (err) {
      await conn.stop();
      throw err;
    }
    reason = "start";
  } else {
    const existing = await readJournal(join(o.mode.runDir, JOURNAL_FILE), { fs: nodeSoakFs }).catch(() => null);
    if (existing === null || existing.entries.length === 0) throw new SoakUsageError(`${o.mode.runDir} has no soak journal (${JOURNAL_FILE}) to resume`);
    session = await openSession(o.mode.runDir, null).catch((err: unknown) => {
      throw new SoakUsageError((err as Error).message);
    });
    if (session.state.snapshot().ended !== null) {
      await session.close();
      throw new SoakUsageError(`${o.mode.runDir} already finished; 'gauntlet report ${o.mode.runDir}' re-renders its report`);
    }
    reason = "resume";
  }
  let interrupted = false;
  try {
    const done = session.state.snapshot().windows.lastEndMs >= session.start.plannedDurationMs;
    if (done) await session.append({ type: "end", atMs: session.state.snapshot().windows.lastEndMs, at: new Date().toISOString() });
    else {
      conn ??= await connect(session.start.target, o);
      o.progress.line(`soak: ${session.runDir} (${reason === "resume" ? "resumed" : "started"}; planned ${(session.start.plannedDurationMs / 60_000).toFixed(1)} min, ${session.start.profile.windowMs / 1000} s windows)`);
      interrupted = await runLifetime(session, conn, reason, o);
    }
    const { report } = await session.writeReports();
    o.progress.end();
    if (o.githubSummaryPath) await appendGithubSummary(toMarkdown(report), o.githubSummaryPath);
    return { report, runDir: session.runDir, exitCode: report.verdict === "pass" ? 0 : report.verdict === "fail" ? 1 : 2, interrupted };
  } finally {
    await conn?.stop();
    await session.close();
  }
}
