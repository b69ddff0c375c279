/** Turns one scenario's measurements into its report entry, its gate metrics, notes and validity. */
import type { LatencySample, Marker, MemorySample, ScenarioReport } from "../report/types.js";
import type { ScenarioDef, ValidityLimits } from "../scenarios/types.js";
import type { LatencyHistogram } from "../stats/histogram.js";
import type { Accumulated } from "./accumulator.js";
import type { HarnessCapacity } from "./harness-capacity.js";
import { littlesLawCheck } from "./littles-law.js";
import { memoryGrowth } from "./memory-growth.js";
import type { ReferenceSet } from "./references.js";
import type { Driver } from "./run-scenario.js";
import { summaryMetrics } from "./scenario-metrics.js";
import type { Metrics } from "./scenario-metrics.js";
import { assessValidity } from "./validity.js";

export interface OutcomeInput {
  scenario: ScenarioDef;
  driver: Driver;
  acc: Accumulated;
  references: ReferenceSet | null;
  loop: { p99Ms: number | null; maxMs: number | null };
  lateness: LatencyHistogram | null;
  /** autocannon's own mean latency and rate, when it drove the run. */
  reported: { meanMs: number | null; rps: number | null } | null;
  memory: MemorySample[];
  memoryNote: string | null;
  capacity: HarnessCapacity | null;
  limits: ValidityLimits;
  series: LatencySample[];
  markers: Marker[];
  interrupted: boolean;
  foreignCpuPct: number | null;
}

export interface ScenarioOutcome {
  report: ScenarioReport;
  /** Gate metrics the report has no field for (memory, timings, validity figures). */
  metrics: Metrics;
  invalid: string[];
  series: LatencySample[];
  markers: Marker[];
  memory: MemorySample[];
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const mb = (b: number) => r1(b / (1024 * 1024));

function driverNote(i: OutcomeInput): string {
  const s = i.scenario;
  switch (i.driver) {
    case "open-loop":
      return `load: open loop, ${s.rate}/s ${s.arrival} arrivals on a precomputed schedule (seed ${s.seed}), at most ${s.connections} in flight; lateness p99 ${r1(i.lateness?.percentile(99) ?? 0)} ms`;
    case "autocannon":
      return `load: autocannon, ${s.connections} connection(s), closed loop`;
    case "gauntlet-client":
      return `load: gauntlet's own client (node:http keep-alive${s.stream ? ", SSE parsed per chunk" : ""}), ${s.connections} connection(s), closed loop` +
        (s.stream ? "" : "; autocannon is not installed, so plain requests used it too");
  }
}

function memoryNotes(i: OutcomeInput, metrics: Metrics): string[] {
  if (i.memoryNote !== null) return [`server memory: unavailable (${i.memoryNote})`];
  const g = memoryGrowth(i.memory.map((m) => ({ tMs: m.tMs, bytes: m.rssBytes })));
  metrics.memory_growth_pct = g.growthPct;
  metrics.memory_start_mb = g.startBytes === null ? null : mb(g.startBytes);
  metrics.memory_peak_mb = g.peakBytes === null ? null : mb(g.peakBytes);
  if (g.growthPct === null) return [`server memory: only ${g.samples} sample(s) during the measured phase; growth unavailable`];
  return [`server memory (RSS, after the references/warm-up): ${mb(g.startBytes ?? 0)} MB at the start, peak ${mb(g.peakBytes ?? 0)} MB, growth ${r1(g.growthPct)}% (Theil-Sen slope over ${g.samples} samples, projected over the phase)`];
}

export function buildScenarioOutcome(i: OutcomeInput): ScenarioOutcome {
  const { acc, scenario: s } = i;
  const completed = acc.requests.ok + acc.requests.wrongAnswers;
  const windowMs = acc.firstSentAt !== null && acc.lastDoneAt !== null ? acc.lastDoneAt - acc.firstSentAt : 0;
  const throughputRps = windowMs > 0 ? (completed * 1000) / windowMs : null;
  const report: ScenarioReport = {
    name: s.name,
    description: s.description,
    requests: { ...acc.requests },
    successRate: acc.requests.total > 0 ? acc.requests.ok / acc.requests.total : null,
    throughputRps,
    latencyMs: acc.latency.summary(),
    ...(s.stream ? { ttftMs: acc.ttft.summary(), itlMs: acc.itl.summary(), tpotMs: acc.tpot.summary() } : {}),
    errorsByKind: { ...acc.errorsByKind },
    notes: [],
  };
  const capacityRps = i.capacity === null ? null : s.stream ? i.capacity.streamRps : i.capacity.jsonRps;
  const metrics: Metrics = {
    ...summaryMetrics("queue", acc.queue.count > 0 ? acc.queue.summary() : undefined),
    ...summaryMetrics("server_total", acc.serverTotal.count > 0 ? acc.serverTotal.summary() : undefined),
    ...summaryMetrics("send_lateness", i.lateness?.summary()),
    memory_growth_pct: null, memory_start_mb: null, memory_peak_mb: null,
    timing_mismatches: acc.timingMismatches,
    littles_law_error_pct: null,
    event_loop_delay_p99_ms: i.loop.p99Ms,
    harness_capacity_rps: capacityRps,
    harness_load_pct: capacityRps && throughputRps !== null ? (throughputRps / capacityRps) * 100 : null,
    foreign_cpu_pct: i.foreignCpuPct,
    output_tokens_per_s: windowMs > 0 ? (acc.outputTokens * 1000) / windowMs : null,
  };
  const notes = report.notes;
  notes.push(driverNote(i));
  if (i.references) {
    notes.push(`references: ${i.references.answers.size} distinct request(s) run alone first; every answer compared with its reference exactly`);
    for (const m of i.references.missing.slice(0, 3)) notes.push(`reference for ${m.key} could not be computed (${m.reason}); its requests count as failed`);
  }
  if (completed > 0) notes.push(`answers: ${acc.distinctAnswers} distinct (request key, text) pair(s) among ${completed} completed`);
  if (acc.cacheHits > 0) notes.push(`${acc.cacheHits} of ${completed} answers came from the server's response cache (x-cache-hit): the engine did not run for them`);
  for (const w of acc.wrongExamples) notes.push(`wrong answer: ${w}`);
  notes.push(acc.timingMismatches === 0
    ? `client/server timings agree on all ${acc.timingsCompared} response(s) that carried server timings (tolerance max(${i.limits.timingToleranceMs} ms, ${i.limits.timingTolerancePct}%))`
    : `client/server timings disagree on ${acc.timingMismatches} of ${acc.timingsCompared} response(s) (tolerance max(${i.limits.timingToleranceMs} ms, ${i.limits.timingTolerancePct}%))`);
  for (const m of acc.mismatchExamples) notes.push(`timing disagreement: ${m}`);
  if (acc.queue.count > 0) notes.push(`server queue time p50 ${r1(acc.queue.percentile(50) ?? 0)} ms, p95 ${r1(acc.queue.percentile(95) ?? 0)} ms; server total p50 ${r1(acc.serverTotal.percentile(50) ?? 0)} ms`);
  const invalid: string[] = [];
  if (s.rate === null) {
    // Every request occupies its connection, failed ones too: L = connections = throughput x mean latency.
    const total = acc.requests.total;
    const mean = i.reported?.meanMs ?? (total > 0 ? acc.elapsedTotalMs / total : null);
    // Throughput always from the harness's own clock (first send to last answer): autocannon's
    // requests.average is a mean over one-second buckets, meaningless for a run shorter than a few seconds.
    // Its mean latency is the figure under test (its stale-start timing after reconnects).
    const rps = windowMs > 0 ? (total * 1000) / windowMs : null;
    const ll = littlesLawCheck({ connections: Math.min(s.connections, acc.requests.total), requests: acc.requests.total, throughputRps: rps, meanLatencyMs: mean }, i.limits.littlesLawTolerancePct);
    metrics.littles_law_error_pct = ll.errorPct;
    notes.push(`${ll.note}${i.reported ? " (autocannon's own figures)" : ""}`);
    if (ll.status === "mismatch") invalid.push(`${s.name}: ${ll.note}`);
  }
  notes.push(...memoryNotes(i, metrics));
  notes.push(`other processes' share of the machine's CPU: ${i.foreignCpuPct === null ? "not measured (server pid unknown or not Linux)" : `${r1(i.foreignCpuPct)}%`}`);
  notes.push(`harness event-loop delay p99 ${i.loop.p99Ms === null ? "n/a" : `${r1(i.loop.p99Ms)} ms`}; harness capacity ${capacityRps === null ? "unknown" : `${Math.round(capacityRps)} req/s (${i.capacity?.source})`}`);
  const validity = assessValidity(
    { scenario: s.name, eventLoopDelayP99Ms: i.loop.p99Ms, sendLatenessP99Ms: i.lateness?.percentile(99) ?? null, throughputRps, harnessCapacityRps: capacityRps, foreignCpuPct: i.foreignCpuPct },
    i.limits,
  );
  notes.push(...validity.notes.map((n) => n.replace(`${s.name}: `, "")));
  invalid.push(...validity.invalid);
  if (i.interrupted) invalid.push(`${s.name}: the run was interrupted before the scenario finished`);
  return { report, metrics, invalid, series: i.series, markers: i.markers, memory: i.memory };
}
