/**
 * Comparing a run with stored ones (--baseline report.json, repeatable). Each compared metric gets a
 * tolerance max(minTolerancePct, k * noise), where the noise is:
 * - with several baseline runs, the run-to-run noise: the relative sample standard deviation of that
 *   metric across the runs, and the comparison is with their median (robust to one odd run);
 * - with one run, only what that run can say about itself: the relative standard error of the statistic,
 *   where the standard error of a percentile p of n samples with standard deviation s is approximated as
 *   s * sqrt(p(1-p)) / phi(z_p) / sqrt(n) (normal approximation). Within-run noise misses what changes
 *   between runs (machine state, other tenants), which the floor minTolerancePct has to cover.
 * A fixed tolerance may replace both. A regression beyond the tolerance is a gate of its own.
 */
import { parseGate } from "../gates/index.js";
import type { BaselineComparison, BaselineInfo, LatencySummary, RunReport, ScenarioReport } from "../report/types.js";
import type { BaselinePolicy } from "../scenarios/types.js";
import type { GateSpec } from "./gates.js";
import { baselineMetrics } from "./scenario-metrics.js";
import type { Metrics } from "./scenario-metrics.js";

/** sqrt(p(1-p)) / phi(z_p): the standard error of the p-quantile in units of s / sqrt(n). */
const QUANTILE_FACTOR = { mean: 1, p50: 1.2533, p95: 2.113, p99: 3.733 } as const;
type Stat = keyof typeof QUANTILE_FACTOR;

export interface BaselineOptions {
  policy: BaselinePolicy;
  /** Replaces the noise-derived tolerance (percent). */
  fixedTolerancePct: number | null;
  /** Where the baseline came from, for the report. */
  source: string;
  /** Further stored runs of the same scenarios: with them the tolerance comes from the run-to-run spread. */
  others?: readonly RunReport[];
}

export interface BaselineOutcome {
  info: BaselineInfo;
  gates: GateSpec[];
  /** `baseline.*` metrics per scenario name, for the gates. */
  metrics: Map<string, Metrics>;
  notes: string[];
}

/** Relative standard error (percent) of a statistic of a summary; null when it cannot be estimated. */
export function relativeNoisePct(s: LatencySummary | undefined, stat: Stat): number | null {
  const value = s?.[stat];
  if (!s || value === null || value === undefined || value <= 0 || s.stddev === null || s.count < 2) return null;
  return ((100 * s.stddev) / value) * (QUANTILE_FACTOR[stat] / Math.sqrt(s.count));
}

/** Relative sample standard deviation (percent) of the same metric over several runs; null below two values. */
export function runToRunNoisePct(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (!(mean > 0)) return null;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return (100 * Math.sqrt(variance)) / mean;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function tolerancePct(noisePct: number | null, policy: BaselinePolicy, fixed: number | null): number {
  if (fixed !== null) return fixed;
  return Math.max(policy.minTolerancePct, noisePct === null ? 0 : policy.noiseMultiplier * noisePct);
}

interface Compared {
  metric: string;
  stat: Stat;
  summary: (r: ScenarioReport) => LatencySummary | undefined;
  value: (r: ScenarioReport) => number | null;
  lowerIsBetter: boolean;
}

const COMPARED: Compared[] = [
  { metric: "p50", stat: "p50", summary: (r) => r.latencyMs, value: (r) => r.latencyMs.p50, lowerIsBetter: true },
  { metric: "p95", stat: "p95", summary: (r) => r.latencyMs, value: (r) => r.latencyMs.p95, lowerIsBetter: true },
  { metric: "ttft.p95", stat: "p95", summary: (r) => r.ttftMs, value: (r) => r.ttftMs?.p95 ?? null, lowerIsBetter: true },
  { metric: "throughput_rps", stat: "mean", summary: (r) => r.latencyMs, value: (r) => r.throughputRps, lowerIsBetter: false },
];

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function environmentNotes(current: RunReport["environment"] | null, base: RunReport["environment"]): string[] {
  if (current === null) return [];
  const notes: string[] = [];
  if (current.model?.sha256 !== base.model?.sha256) notes.push("the baseline ran a different model file");
  if (current.cpuModel !== base.cpuModel || current.cores !== base.cores) notes.push(`the baseline ran on a different CPU (${base.cpuModel}, ${base.cores} cores)`);
  if (current.node !== base.node) notes.push(`the baseline ran on Node ${base.node}`);
  return notes.map((n) => `baseline: ${n}; differences may not be regressions`);
}

export function compareWithBaseline(
  current: readonly ScenarioReport[],
  baseline: RunReport,
  opts: BaselineOptions,
  environment: RunReport["environment"] | null = null,
): BaselineOutcome {
  const comparisons: BaselineComparison[] = [];
  const gates: GateSpec[] = [];
  const metrics = new Map<string, Metrics>();
  const notes = environmentNotes(environment, baseline.environment);
  const runs = [baseline, ...(opts.others ?? [])];
  notes.push(
    runs.length > 1
      ? `baseline: ${runs.length} baseline runs: tolerances from the spread between them (run-to-run noise), compared with their median`
      : "baseline: one baseline run: tolerances from its within-run sampling noise only; give --baseline several times to measure run-to-run noise",
  );
  for (const cur of current) {
    const base = baseline.scenarios.find((s) => s.name === cur.name);
    if (!base) {
      notes.push(`baseline: no scenario ${JSON.stringify(cur.name)} in the baseline; not compared`);
      continue;
    }
    const sameScenario = runs.map((r) => r.scenarios.find((s) => s.name === cur.name)).filter((s): s is ScenarioReport => s !== undefined);
    const gateMetrics = baselineMetrics(base);
    metrics.set(cur.name, gateMetrics);
    for (const c of COMPARED) {
      const across = sameScenario.map((s) => c.value(s)).filter((x): x is number => x !== null);
      const b = runs.length > 1 && across.length > 0 ? median(across) : c.value(base);
      const v = c.value(cur);
      if (c.metric.startsWith("ttft") && (b === null || v === null)) continue;
      if (b !== null) gateMetrics[`baseline.${c.metric}`] = b;
      const noise = runs.length > 1 ? runToRunNoisePct(across) : relativeNoisePct(c.summary(base), c.stat);
      const tol = tolerancePct(noise, opts.policy, opts.fixedTolerancePct);
      const changePct = b !== null && v !== null && b !== 0 ? ((v - b) / b) * 100 : null;
      let verdict: BaselineComparison["verdict"] = "unknown";
      if (changePct !== null) {
        const worse = c.lowerIsBetter ? changePct > tol : changePct < -tol;
        const better = c.lowerIsBetter ? changePct < -tol : changePct > tol;
        verdict = worse ? "worse" : better ? "better" : "same";
      }
      comparisons.push({ scenario: cur.name, metric: c.metric, baseline: b, current: v, changePct: changePct === null ? null : round(changePct, 3), verdict });
      const factor = round(c.lowerIsBetter ? 1 + tol / 100 : Math.max(0, 1 - tol / 100), 4);
      const expression = `${c.metric} ${c.lowerIsBetter ? "<=" : ">="} baseline.${c.metric} * ${factor}`;
      gates.push({ id: `${cur.name}/baseline-${c.metric.replace(/[._]/g, "-")}`, scenario: cur.name, gate: parseGate(expression) });
    }
  }
  const info: BaselineInfo = {
    name: `${baseline.name}@${baseline.startedAt}`,
    source: opts.source,
    startedAt: baseline.startedAt,
    comparisons,
  };
  return { info, gates, metrics, notes };
}
