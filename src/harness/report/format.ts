import { formatValue } from "../gates/evaluate.js";
import type { GateResult, LatencySummary, RunReport, ScenarioReport } from "./types.js";

/** Shared presentation helpers of the report writers (pure, locale-independent). */

export const NO_VALUE = "—";

export const PERCENTILE_COLUMNS = [
  ["p50", "p50"],
  ["p90", "p90"],
  ["p95", "p95"],
  ["p99", "p99"],
  ["p999", "p99.9"],
] as const satisfies readonly (readonly [keyof LatencySummary, string])[];

export const DEFINITIONS: readonly string[] = [
  "E2E: request sent to last byte ([DONE] for streams).",
  "TTFT: request sent to the first SSE chunk that carries content.",
  "ITL: time between consecutive content chunks of one response.",
  "TPOT: (E2E - TTFT) / (output tokens - 1), output tokens from the server's usage.",
];

/** Milliseconds with precision that suits the magnitude. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  const a = Math.abs(v);
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function fmtNumber(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? NO_VALUE : formatValue(v);
}

export function fmtPct(rate: number | null | undefined): string {
  return rate === null || rate === undefined || !Number.isFinite(rate) ? NO_VALUE : `${(rate * 100).toFixed(2)}%`;
}

export function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return i === 0 ? `${x} B` : `${x.toFixed(2)} ${units[i]}`;
}

/** 3602500 -> "1h 0m 2s"; 12500 -> "12.5 s"; 850 -> "850 ms". */
export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return NO_VALUE;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m ${s % 60}s` : `${m}m ${s % 60}s`;
}

export interface GateCounts {
  total: number;
  pass: number;
  fail: number;
  unavailable: number;
}

export function countGates(gates: readonly GateResult[]): GateCounts {
  return {
    total: gates.length,
    pass: gates.filter((g) => g.verdict === "pass").length,
    fail: gates.filter((g) => g.verdict === "fail").length,
    unavailable: gates.filter((g) => g.verdict === "unavailable").length,
  };
}

/** "1 of 6 gates failed · 1 unavailable · 4 passed" */
export function gateHeadline(c: GateCounts): string {
  if (c.total === 0) return "no gates";
  const parts = [
    c.fail > 0 ? `${c.fail} of ${c.total} gate${c.total > 1 ? "s" : ""} failed` : `${c.pass} of ${c.total} gate${c.total > 1 ? "s" : ""} passed`,
  ];
  if (c.unavailable > 0) parts.push(`${c.unavailable} unavailable`);
  if (c.fail > 0) parts.push(`${c.pass} passed`);
  return parts.join(" · ");
}

const ORDER: Record<GateResult["verdict"], number> = { fail: 0, unavailable: 1, pass: 2 };

/** Red first, then unavailable, then green; stable within each group. */
export function gatesByUrgency(gates: readonly GateResult[]): GateResult[] {
  return gates.map((g, i) => ({ g, i })).sort((a, b) => ORDER[a.g.verdict] - ORDER[b.g.verdict] || a.i - b.i).map((x) => x.g);
}

/** "p95 = 860 · p50 = 430" */
export function fmtGateValues(values: Readonly<Record<string, number | null>>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k} = ${v === null ? "missing" : fmtNumber(v)}`);
  return parts.length > 0 ? parts.join(" · ") : NO_VALUE;
}

export const VERDICT_WORD: Record<RunReport["verdict"], string> = { pass: "PASS", fail: "FAIL", invalid: "INVALID" };

/** Latency metrics of a scenario that have a summary, with display labels. */
export function latencyRows(s: ScenarioReport): { key: string; label: string; summary: LatencySummary }[] {
  const rows: { key: string; label: string; summary: LatencySummary | undefined }[] = [
    { key: "latencyMs", label: "E2E latency", summary: s.latencyMs },
    { key: "ttftMs", label: "TTFT", summary: s.ttftMs },
    { key: "itlMs", label: "ITL", summary: s.itlMs },
    { key: "tpotMs", label: "TPOT", summary: s.tpotMs },
  ];
  return rows.filter((r): r is { key: string; label: string; summary: LatencySummary } => r.summary !== undefined);
}

/** "7200 requests: 7185 ok, 12 failed, 3 wrong answers · success 99.79% · 2.00 req/s" */
export function scenarioHeadline(s: ScenarioReport): string {
  const r = s.requests;
  const parts = [`${r.total} requests: ${r.ok} ok, ${r.failed} failed, ${r.wrongAnswers} wrong answer${r.wrongAnswers === 1 ? "" : "s"}`];
  parts.push(`success ${fmtPct(s.successRate)}`);
  parts.push(`${s.throughputRps === null ? NO_VALUE : s.throughputRps.toFixed(2)} req/s`);
  const errs = Object.entries(s.errorsByKind).filter(([, n]) => n > 0);
  if (errs.length > 0) parts.push(`errors: ${errs.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  return parts.join(" · ");
}

/** Short description of where the run happened, for report headers. */
export function environmentLine(r: RunReport): string {
  const e = r.environment;
  const parts = [`gauntlet ${r.tool.version}`, `node ${e.node}`, `${e.platform}/${e.arch}`, `${e.cores} × ${e.cpuModel}`];
  if (e.gitCommit !== null) parts.push(`commit ${e.gitCommit.slice(0, 10)}`);
  if (e.model !== null) parts.push(`model ${e.model.id}`);
  return parts.join(" · ");
}
