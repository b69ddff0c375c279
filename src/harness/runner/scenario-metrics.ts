/** The metric names gate expressions see for one scenario (see scenarios/metric-names.ts). */
import type { LatencySummary, ScenarioReport } from "../report/types.js";
import { SUMMARY_STATS } from "../scenarios/metric-names.js";

export type Metrics = Record<string, number | null>;

/** `family.p50`, `family.p95`, ... from a summary; null fields stay null (gates say "unavailable"). */
export function summaryMetrics(family: string, s: LatencySummary | undefined): Metrics {
  const out: Metrics = {};
  for (const stat of SUMMARY_STATS) out[`${family}.${stat}`] = s ? (s[stat] ?? null) : null;
  return out;
}

/** Metrics derived from the report itself; `extra` adds what the report has no field for (memory, timings...). */
export function scenarioMetrics(r: ScenarioReport, extra: Metrics = {}): Metrics {
  const out: Metrics = {
    ...summaryMetrics("latency", r.latencyMs),
    ...summaryMetrics("ttft", r.ttftMs),
    ...summaryMetrics("itl", r.itlMs),
    ...summaryMetrics("tpot", r.tpotMs),
    requests: r.requests.total,
    ok: r.requests.ok,
    errors: r.requests.failed,
    wrong_answers: r.requests.wrongAnswers,
    success_rate: r.successRate,
    throughput_rps: r.throughputRps,
  };
  for (const stat of SUMMARY_STATS) out[stat] = out[`latency.${stat}`] ?? null;
  return { ...out, ...extra };
}

/** The same metrics under `baseline.` for comparisons with a stored run. */
export function baselineMetrics(r: ScenarioReport): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(scenarioMetrics(r))) out[`baseline.${k}`] = v;
  return out;
}
