/**
 * The metric names soak gates may use, all on the "soak" scenario: the usual per-scenario names
 * (latency.p95, ttft.p50, success_rate, ...), the cache-hit lane (`repeat.*`), the canary lane
 * (`canary.*`) and the soak verdict's own figures. Checked when profiles and --gate expressions
 * are read, so a typo is a usage error before hours of running.
 */
import { closestMatch } from "../../config/suggest.js";
import { listIdentifiers, parseGate } from "../gates/index.js";
import type { Gate } from "../gates/index.js";
import { SUMMARY_STATS } from "../scenarios/metric-names.js";

export const SOAK_SCALARS = [
  "requests", "ok", "errors", "wrong_answers", "success_rate", "throughput_rps", "failure_rate",
  "memory_growth_pct", "memory_growth_pct_low", "memory_growth_pct_high", "memory_slope_mb_per_h", "memory_baseline_mb",
  "memory_post_warmup_samples", "memory_lifetimes_judged",
  "latency_bad_windows", "latency_max_consecutive_bad", "latency_judged_windows",
  "canary_count", "canary_changed", "canary_failed",
  "event_loop_delay_p99_ms", "send_lateness_p99_ms", "foreign_cpu_pct", "latency_noisy_windows", "server_restarts", "windows",
] as const;

export const SOAK_FAMILIES = ["latency", "ttft", "repeat", "canary"] as const;

const KNOWN = new Set<string>([
  ...SOAK_SCALARS,
  ...SUMMARY_STATS,
  ...SOAK_FAMILIES.flatMap((f) => SUMMARY_STATS.map((s) => `${f}.${s}`)),
]);

export function isSoakMetric(name: string): boolean {
  return KNOWN.has(name);
}

export type ParsedSoakGate = { ok: true; gate: Gate } | { ok: false; problem: string };

export function parseSoakGate(expression: string): ParsedSoakGate {
  let gate: Gate;
  try {
    gate = parseGate(expression);
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  const problems = listIdentifiers(gate)
    .filter((n) => !KNOWN.has(n))
    .map((n) => {
      const guess = closestMatch(n, [...KNOWN]);
      return `unknown soak metric ${JSON.stringify(n)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}`;
    });
  return problems.length > 0 ? { ok: false, problem: problems.join("; ") } : { ok: true, gate };
}
