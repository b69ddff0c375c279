/**
 * One scenario against one server: references (each distinct request alone), warm-up, then the
 * measured load (open loop on a schedule, autocannon for plain closed-loop runs when installed, our
 * own client otherwise), with the server's memory and the harness's event loop watched meanwhile.
 */
import http from "node:http";
import type { AutocannonFn } from "../load/autocannon-driver.js";
import { runAutocannon } from "../load/autocannon-driver.js";
import { sendChat } from "../load/chat-client.js";
import { cpuSnapshot, foreignCpuPct } from "../load/cpu-usage.js";
import type { Clock } from "../load/clock.js";
import { runClosedLoop, runOpenLoop } from "../load/drivers.js";
import { startEventLoopMonitor } from "../load/event-loop-monitor.js";
import type { MemorySampler } from "../load/memory-sampler.js";
import { arrivalOffsets } from "../load/schedule.js";
import type { RequestRecord } from "../load/types.js";
import type { LatencySample, Marker } from "../report/types.js";
import { planRequest, referenceRequests } from "../scenarios/plan.js";
import type { PlannedRequest } from "../scenarios/plan.js";
import type { ScenarioDef, ValidityLimits } from "../scenarios/types.js";
import type { LatencyHistogram } from "../stats/histogram.js";
import { ScenarioAccumulator } from "./accumulator.js";
import type { HarnessCapacity } from "./harness-capacity.js";
import type { ProgressSink } from "./progress.js";
import { computeReferences } from "./references.js";
import { buildScenarioOutcome } from "./scenario-outcome.js";
import type { ScenarioOutcome } from "./scenario-outcome.js";

export interface ScenarioRunContext {
  baseUrl: string;
  /** Sent with every request (e.g. a --target's authorization); never written to reports. */
  headers?: Record<string, string>;
  /** Sent as `model` when known. */
  model: string | null;
  clock: Clock;
  /** Run-clock time the run started; series times are relative to it. */
  origin: number;
  limits: ValidityLimits;
  memory: MemorySampler | null;
  /** Why memory is unavailable (when memory is null). */
  memoryNote: string | null;
  /** The bundled server's processes, to tell their CPU use from other processes'; null for a --target. */
  serverPids: number[] | null;
  capacity: HarnessCapacity | null;
  autocannon: AutocannonFn | null;
  progress: ProgressSink;
  signal?: AbortSignal;
}

export type Driver = "open-loop" | "autocannon" | "gauntlet-client";

export function chooseDriver(s: ScenarioDef, autocannon: AutocannonFn | null): Driver {
  if (s.rate !== null) return "open-loop";
  return !s.stream && autocannon !== null ? "autocannon" : "gauntlet-client";
}

export async function runScenario(s: ScenarioDef, ctx: ScenarioRunContext): Promise<ScenarioOutcome> {
  const { clock } = ctx;
  const stop = () => ctx.signal?.aborted === true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: s.connections });
  const client = { baseUrl: ctx.baseUrl, agent, timeoutMs: s.timeoutMs, now: clock.now, headers: ctx.headers ?? {} };
  const send = (p: PlannedRequest, scheduledAt: number | null = null) => sendChat(client, p, scheduledAt);
  const plan = (i: number) => planRequest(s, i, ctx.model);
  const markers: Marker[] = [];
  try {
    let references = null;
    if (s.check === "reference") {
      const plans = referenceRequests(s, ctx.model);
      ctx.progress.line(`[${s.name}] computing ${plans.length} reference answer(s), one request at a time`);
      references = await computeReferences(plans, send, stop);
    }
    if (s.warmupRequests > 0) {
      ctx.progress.line(`[${s.name}] warming up with ${s.warmupRequests} request(s)`);
      await runClosedLoop({ connections: s.connections, count: s.warmupRequests, durationMs: null, clock, stop, send: async (i) => void (await send(plan(i))) });
    }
    const driver = chooseDriver(s, ctx.autocannon);
    const acc = new ScenarioAccumulator({ references: references?.answers ?? null, tolerance: ctx.limits });
    const series: LatencySample[] = [];
    const start = clock.now();
    await ctx.memory?.sampleNow();
    markers.push({ tMs: start - ctx.origin, label: `${s.name} start` });
    const total = s.requests;
    ctx.progress.line(`[${s.name}] measuring ${total ?? `${s.durationMs} ms of`} requests, ${s.rate === null ? `${s.connections} connection(s)` : `${s.rate}/s open loop`}, ${driver}`);
    const ticker = setInterval(() => {
      const now = clock.now();
      series.push(acc.takeWindow(now - ctx.origin));
      ctx.progress.tick({ scenario: s.name, elapsedMs: now - start, total, ...acc.live() });
    }, 1000);
    ticker.unref();
    const monitor = startEventLoopMonitor();
    const cpuBefore = ctx.serverPids === null ? null : await cpuSnapshot([process.pid, ...ctx.serverPids]);
    const record = (rec: RequestRecord) => acc.add(rec);
    let lateness: LatencyHistogram | null = null;
    let reported: { meanMs: number | null; rps: number | null } | null = null;
    try {
      const offset = s.warmupRequests;
      if (driver === "open-loop") {
        const offsets = arrivalOffsets({ rate: s.rate ?? 1, arrival: s.arrival, seed: s.seed, count: total, durationMs: s.durationMs });
        const r = await runOpenLoop({ offsets, maxInFlight: s.connections, clock, stop, send: async (i, due) => record(await send(plan(offset + i), due)) });
        lateness = r.lateness;
      } else if (driver === "autocannon" && ctx.autocannon) {
        const r = await runAutocannon(ctx.autocannon, {
          baseUrl: ctx.baseUrl, headers: ctx.headers ?? {}, connections: s.connections, count: total, durationMs: s.durationMs, rate: null, timeoutMs: s.timeoutMs, clock,
          plan: (i) => plan(offset + i), onRecord: record,
        });
        reported = { meanMs: r.reportedMeanLatencyMs, rps: r.reportedRps };
      } else {
        await runClosedLoop({ connections: s.connections, count: total, durationMs: s.durationMs, clock, stop, send: async (i) => record(await send(plan(offset + i))) });
      }
    } finally {
      clearInterval(ticker);
    }
    const loop = monitor.stop();
    const end = clock.now();
    const cpuAfter = ctx.serverPids === null ? null : await cpuSnapshot([process.pid, ...ctx.serverPids]);
    await ctx.memory?.sampleNow();
    series.push(acc.takeWindow(end - ctx.origin));
    markers.push({ tMs: end - ctx.origin, label: `${s.name} end` });
    ctx.progress.end();
    return buildScenarioOutcome({
      scenario: s, driver, acc: acc.result(), references, loop, lateness, reported,
      memory: ctx.memory?.between(start, clock.now()) ?? [], memoryNote: ctx.memory ? null : ctx.memoryNote,
      capacity: ctx.capacity, limits: ctx.limits, series, markers, interrupted: stop(), foreignCpuPct: foreignCpuPct(cpuBefore, cpuAfter),
    });
  } finally {
    agent.destroy();
  }
}
