/**
 * The soak run's RunReport (the same files as stress runs): scenarios "soak" (the mixed workload:
 * E2E of both lanes, TTFT of the streamed fresh requests) and "soak-canary" (its own latency chart;
 * a changed answer counts as a wrong answer), gates evaluated on the soak metrics, the memory and
 * latency series with markers (warm-up ends, restarts, interruptions, fitted lines' ends).
 */
import { evaluateGate, parseGate } from "../gates/index.js";
import type { GateResult, MemoryFit, MemorySample, RunReport, ScenarioReport, StabilitySeries } from "../report/types.js";
import { verdictOf } from "../runner/assemble-report.js";
import { scenarioMetrics, summaryMetrics } from "../runner/scenario-metrics.js";
import type { Metrics } from "../runner/scenario-metrics.js";
import type { BlockRow } from "./bounded.js";
import type { SoakSnapshot } from "./state.js";
import { runInvalidReasons } from "./verdict.js";
import type { SoakVerdict } from "./verdict.js";

export const SOAK_SCENARIO = "soak";
export const CANARY_SCENARIO = "soak-canary";

export interface SoakReportOptions {
  /** Extra notes on the soak scenario (e.g. journal lines skipped while rebuilding). */
  notes?: string[];
}

function soakScenario(s: SoakSnapshot, v: SoakVerdict, extra: string[]): ScenarioReport {
  const p = s.start.profile;
  const w = p.workload;
  const seconds = s.windows.lastEndMs / 1000;
  const load = p.ratePerSecond === null ? `closed loop of ${p.concurrency}` : `${p.ratePerSecond >= 1 ? `${+p.ratePerSecond.toFixed(2)} requests/s` : `${+(p.ratePerSecond * 60).toFixed(2)} requests/min`}, at most ${p.concurrency} in flight`;
  const notes = [
    `workload: ${load}; ${Math.round(w.streamShare * 100)}% streamed; ${Math.round(w.repeatShare * 100)}% repeats of ${w.repeatPool} temperature-0 requests (cache hits after their first time), the rest fresh at temperature ${w.temperature}; prompt sizes ${w.promptSizes.join("/")} x a filler sentence; max_tokens ${w.maxTokens}`,
    `windows: ${s.windows.count} of ${Math.ceil(s.start.plannedDurationMs / p.windowMs)} planned (${p.windowMs / 1000} s each${s.windows.partial > 0 ? `, ${s.windows.partial} partial` : ""}); ${s.lifetimes.length} server lifetime(s)`,
    ...v.notes,
    `cache-hit lane: ${s.hist.repeat.count} answers (${s.cacheHits} marked x-cache-hit by the server), E2E p50 ${fmt(s.hist.repeat.percentile(50))} ms, p95 ${fmt(s.hist.repeat.percentile(95))} ms; fresh lane: ${s.hist.fresh.count} answers, p50 ${fmt(s.hist.fresh.percentile(50))} ms, p95 ${fmt(s.hist.fresh.percentile(95))} ms`,
    s.host.measuredWindows === 0
      ? "host: other processes' CPU not measured (Linux /proc and the server's pid are needed: not for a --target)"
      : `host: other processes used ${fmt(s.host.meanForeignPct)}% of the machine's CPU on average (max ${fmt(s.host.maxForeignPct)}%); ${s.host.noisyWindows} of ${s.host.measuredWindows} windows above ${p.verdict.maxForeignCpuPct ?? 70}%`,
    `server memory: ${s.lifetimes.map((l) => `lifetime ${l.lifetime}: ${l.server.memoryNote}`).join("; ") || "no server lifetime"}`,
    `harness: event-loop delay p99 max ${fmt(s.loop.maxP99Ms)} ms over ${s.loop.measuredWindows} windows (${s.loop.laggingWindows} lagging); send lateness p99 max ${fmt(s.lateness.maxP99Ms)} ms over ${s.lateness.measuredWindows} windows (${s.lateness.laggingWindows} late), max ${fmt(s.maxLatenessMs)} ms (waiting for a free slot under the concurrency cap is not counted)`,
    ...extra,
  ];
  if (s.unreadable > 0) notes.push(`journal: ${s.unreadable} entr${s.unreadable === 1 ? "y" : "ies"} of an unknown shape skipped`);
  return {
    name: SOAK_SCENARIO,
    description: p.description,
    requests: { total: s.requests.total, ok: s.requests.ok, failed: s.requests.failed, wrongAnswers: 0 },
    successRate: s.requests.total > 0 ? s.requests.ok / s.requests.total : null,
    throughputRps: seconds > 0 ? s.requests.ok / seconds : null,
    latencyMs: s.hist.all.summary(),
    ...(p.workload.streamShare > 0 ? { ttftMs: s.hist.ttft.summary() } : {}),
    errorsByKind: { ...s.requests.errors },
    notes,
  };
}

function canaryScenario(s: SoakSnapshot): ScenarioReport {
  const c = s.canary;
  const errors: Record<string, number> = {};
  for (const [k, n] of Object.entries(c.failures)) if (k !== "changed") errors[k] = n;
  const notes = [
    `prompt ${JSON.stringify(s.start.profile.canary.prompt)}, temperature 0, max_tokens ${s.start.profile.canary.maxTokens}, once per window; a never-matching stop string varies per window so the response cache cannot answer it`,
    c.reference === null ? "no canary answer yet" : `reference answer (the first): ${JSON.stringify(c.reference.slice(0, 160))}`,
  ];
  if (c.firstChange) notes.push(`first changed answer (window ${c.firstChange.window}): ${JSON.stringify(c.firstChange.text.slice(0, 160))}`);
  if (c.skipped > 0) notes.push(`${c.skipped} canary send(s) skipped: the previous canary was still running`);
  return {
    name: CANARY_SCENARIO,
    description: "a fixed prompt at temperature 0 in every window: its answer must never change",
    requests: { total: c.total, ok: c.unchanged, failed: c.failed, wrongAnswers: c.changed },
    successRate: c.total > 0 ? c.unchanged / c.total : null,
    throughputRps: null,
    latencyMs: s.hist.canary.summary(),
    errorsByKind: errors,
    notes,
  };
}

const fmt = (v: number | null) => (v === null ? "n/a" : v < 10 ? v.toFixed(2) : v.toFixed(0));

/** The verdict's fits of RSS (the judged series) over each lifetime's post-warm-up span, for the memory chart. */
function memoryFits(v: SoakVerdict, confidence: number): MemoryFit[] {
  const many = v.memory.lifetimes.length > 1;
  return v.memory.lifetimes.flatMap((m) => {
    if (!m.fit) return [];
    const tag = many ? ` (lifetime ${m.lifetime})` : "";
    const f = m.fit;
    const fits: MemoryFit[] = [{ label: `Theil-Sen fit${tag} (${Math.round(confidence * 100)}% slope interval)`, fromMs: f.fromMs, fromBytes: f.fromBytes, toMs: f.toMs, toBytes: f.toBytes, lowToBytes: f.lowToBytes, highToBytes: f.highToBytes }];
    if (f.late) fits.push({ label: `flattened last third${tag}: projected from here`, ...f.late });
    return fits;
  });
}

const MAX_STABILITY_POINTS = 1024;

/** p95/p50 of each latency window with enough requests, per prompt-size class (what the latency gate judges). */
function stability(s: SoakSnapshot): StabilitySeries {
  const { maxRatio, minRequests } = s.start.profile.verdict.latency;
  const classes = s.blocks.map(({ log, open }, c) => {
    const rows: BlockRow[] = [];
    for (let i = 0; i < log.length; i++) rows.push(log.row(i));
    if (open) rows.push(open);
    let points = rows.filter((r) => r.count >= minRequests && r.p50 !== null && r.p95 !== null && r.p50 > 0)
      .map((r) => ({ tMs: (r.startMs + r.endMs) / 2, ratio: r.p95! / r.p50! }));
    if (points.length > MAX_STABILITY_POINTS) {
      // Keep the worst window of each run of k, so bad windows stay visible on a thinned chart.
      const k = Math.ceil(points.length / MAX_STABILITY_POINTS);
      points = Array.from({ length: Math.ceil(points.length / k) }, (_, i) => points.slice(i * k, i * k + k).reduce((a, b) => (b.ratio > a.ratio ? b : a)));
    }
    return { label: `prompts of ${s.start.profile.workload.promptSizes[c]} sentence(s)`, points };
  });
  return { maxRatio, classes };
}

export function soakMetrics(s: SoakSnapshot, v: SoakVerdict, soak: ScenarioReport): Metrics {
  return {
    ...scenarioMetrics(soak),
    ...summaryMetrics("repeat", s.hist.repeat.count > 0 ? s.hist.repeat.summary() : undefined),
    ...summaryMetrics("canary", s.hist.canary.count > 0 ? s.hist.canary.summary() : undefined),
    ...v.metrics,
  };
}

export function buildSoakReport(s: SoakSnapshot, v: SoakVerdict, options: SoakReportOptions = {}): RunReport {
  const soak = soakScenario(s, v, options.notes ?? []);
  const canary = canaryScenario(s);
  const metrics = soakMetrics(s, v, soak);
  const gates: GateResult[] = s.start.gates.map((g) => {
    const e = evaluateGate(parseGate(g.expression), metrics);
    return { id: g.id, scenario: SOAK_SCENARIO, expression: g.expression, verdict: e.verdict, values: e.values, detail: e.detail };
  });
  const memory: MemorySample[] = s.memory.points.map((p) => ({
    tMs: p.tMs,
    rssBytes: p.rss,
    ...(p.heap !== null ? { heapUsedBytes: p.heap } : {}),
    ...(p.ext !== null ? { externalBytes: p.ext } : {}),
  }));
  const invalidReasons = runInvalidReasons(v, gates);
  const unjudged = v.latencyInvalid.filter((r) => !invalidReasons.includes(r));
  if (unjudged.length > 0) soak.notes.push(...unjudged.map((r) => `latency stability not judged (red on another gate regardless): ${r}`));
  const startedMs = Date.parse(s.start.startedAt);
  const lastMs = s.windows.lastAt === null ? startedMs : Math.max(startedMs, Date.parse(s.windows.lastAt));
  const env = s.start.environment;
  return {
    schemaVersion: 1,
    tool: { name: "gauntlet", version: s.start.toolVersion },
    kind: "soak",
    name: s.start.name,
    startedAt: s.start.startedAt,
    finishedAt: new Date(Number.isFinite(lastMs) ? lastMs : startedMs).toISOString(),
    durationMs: s.windows.lastEndMs,
    verdict: verdictOf(invalidReasons, gates),
    invalidReasons,
    environment: {
      ...env,
      config: {
        ...env.config,
        soak: { plannedDurationMs: s.start.plannedDurationMs, target: s.start.target, lifetimes: s.lifetimes.map((l) => ({ lifetime: l.lifetime, atMs: l.atMs, reason: l.reason, server: l.server })) },
      },
    },
    scenarios: [soak, canary],
    gates,
    series: {
      memory,
      latency: s.latency.map((p) => ({ tMs: p.tMs, p50: p.p50, p95: p.p95 })),
      markers: v.markers,
      memoryFits: memoryFits(v, s.start.profile.verdict.memory.confidence),
      lanes: [{ name: CANARY_SCENARIO, points: s.canaryLatency.map((p) => ({ tMs: p.tMs, p50: p.p50, p95: p.p95 })) }],
      stability: stability(s),
    },
  };
}
