/**
 * The metric names gate expressions may use (per scenario). Checked when thresholds and --gate
 * expressions are read, so a typo is a usage error that suggests the right name instead of a gate
 * that is "unavailable" after a long run.
 */
import { closestMatch } from "../../config/suggest.js";
import { listIdentifiers, parseGate } from "../gates/index.js";
import type { Gate } from "../gates/index.js";

export const SUMMARY_STATS = ["p50", "p90", "p95", "p99", "p999", "mean", "min", "max", "stddev", "count"] as const;

/** Latency families (ms). The bare statistic (`p95`) is the end-to-end latency. */
export const LATENCY_FAMILIES = ["latency", "ttft", "itl", "tpot", "queue", "server_total", "send_lateness"] as const;

export const SCALAR_METRICS = [
  "requests", "ok", "errors", "wrong_answers", "success_rate", "throughput_rps", "output_tokens_per_s",
  "memory_growth_pct", "memory_start_mb", "memory_peak_mb", "timing_mismatches", "littles_law_error_pct",
  "event_loop_delay_p99_ms", "harness_capacity_rps", "harness_load_pct", "foreign_cpu_pct",
] as const;

const KNOWN = new Set<string>([
  ...SCALAR_METRICS,
  ...SUMMARY_STATS,
  ...LATENCY_FAMILIES.flatMap((f) => SUMMARY_STATS.map((s) => `${f}.${s}`)),
]);

/** `baseline.<metric>` names the same metric in the --baseline report. */
export function isKnownMetric(name: string): boolean {
  if (name.startsWith("baseline.")) return KNOWN.has(name.slice("baseline.".length));
  return KNOWN.has(name);
}

export function knownMetricNames(): string[] {
  return [...KNOWN].sort();
}

/** Problems with the metric names of a gate, e.g. `unknown metric "p96" (did you mean "p95"?)`. */
export function unknownMetricProblems(gate: Gate): string[] {
  return listIdentifiers(gate)
    .filter((name) => !isKnownMetric(name))
    .map((name) => {
      const guess = closestMatch(name, [...KNOWN]);
      return `unknown metric ${JSON.stringify(name)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}; see load/README.md for the metric names`;
    });
}

export type ParsedGate = { ok: true; gate: Gate } | { ok: false; problem: string };

/** Parses a gate expression and checks its metric names; the problem says what to fix. */
export function parseKnownGate(expression: string): ParsedGate {
  let gate: Gate;
  try {
    gate = parseGate(expression);
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  const problems = unknownMetricProblems(gate);
  return problems.length > 0 ? { ok: false, problem: problems.join("; ") } : { ok: true, gate };
}
