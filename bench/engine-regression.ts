/**
 * The engine benchmark's regression gate: compares a run with a baseline run (the previous report,
 * or --baseline) and says which figures got worse by more than the noise allows.
 *
 * Noise is measured, not assumed: every HTTP figure comes from two rounds per server (A B B A) and
 * every in-process path figure from two halves of its requests, so each figure carries its own
 * round-to-round spread. A figure regresses when it is worse than the baseline by more than
 * tolerance = max(floor, k x the larger relative spread of the two runs), capped at `cap`.
 *
 * On a shared machine the whole run gets slower or faster together. When both runs measured
 * llama.cpp's llama-server too, HTTP figures are compared as gauntlet / llama-server ratios, which
 * cancels that drift; otherwise they are compared as they are (and say so).
 */
import type { LoadRun } from "./llama-server-load.js";
import type { EngineBenchReport, HttpPreset, TtftRun } from "./llama-server-report.js";

export interface GateOptions {
  /** Smallest tolerance, as a fraction (default 0.10). */
  floor?: number;
  /** Multiple of the measured relative spread (default 3). */
  k?: number;
  /** Largest tolerance (default 0.5): beyond this, a figure is too noisy to gate and is skipped. */
  cap?: number;
}

export interface Comparison {
  /** e.g. "http tiny 1 slot(s) 8 conn req/s" */
  figure: string;
  better: "higher" | "lower";
  baseline: number;
  current: number;
  /** current / baseline - 1, signed so that > 0 is worse. */
  worseBy: number;
  tolerance: number;
  /** "ratio to llama-server" or "absolute". */
  basis: string;
  verdict: "ok" | "regression" | "too noisy";
}

export interface GateResult {
  comparable: boolean;
  /** Why nothing (or only part) was compared. */
  notes: string[];
  comparisons: Comparison[];
  regressions: Comparison[];
}

/** Median and relative spread of a figure's independent measurements (rounds or halves). */
interface Measured {
  value: number;
  /** |max - min| / mean over the measurements; 0 when there is only one. */
  spread: number;
}

const measured = (xs: readonly number[]): Measured | null => {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const spread = v.length > 1 ? (Math.max(...v) - Math.min(...v)) / mean : 0;
  return { value: mean, spread };
};

/** A ratio of two measured figures: spreads add up (first order). */
const ratio = (a: Measured, b: Measured): Measured => ({ value: a.value / b.value, spread: a.spread + b.spread });

const rps = (runs: readonly LoadRun[]) => measured(runs.map((r) => r.requestsPerSecond));
const ttft = (runs: readonly TtftRun[] | undefined) => measured((runs ?? []).map((r) => r.ttftMs.p50));

/** The best llama-server configuration of a level (highest req/s), or null. */
function bestOther<T>(entries: Array<[string, T]>, score: (t: T) => number, better: "higher" | "lower"): T | null {
  const others = entries.filter(([k]) => k !== "gauntlet");
  if (others.length === 0) return null;
  return others.sort((a, b) => (better === "higher" ? score(b[1]) - score(a[1]) : score(a[1]) - score(b[1])))[0]![1];
}

/** The gate's figures of one report, by name: gauntlet's own, or as ratios to llama-server. */
function figures(report: EngineBenchReport, useRatio: boolean): Map<string, { m: Measured; better: "higher" | "lower"; basis: string }> {
  const out = new Map<string, { m: Measured; better: "higher" | "lower"; basis: string }>();
  const basis = useRatio ? "ratio to llama-server" : "absolute";
  for (const h of report.http as HttpPreset[]) {
    for (const level of h.levels) {
      const own = level.results.gauntlet ? rps(level.results.gauntlet.runs) : null;
      if (!own) continue;
      let m: Measured | null = own;
      if (useRatio) {
        const other = bestOther(Object.entries(level.results).map(([k, v]) => [k, rps(v.runs)] as [string, Measured | null]), (x) => x?.value ?? 0, "higher");
        m = other ? ratio(own, other) : null;
      }
      if (m) out.set(`http ${h.preset} ${h.slots} slot(s) ${level.connections} conn req/s`, { m, better: "higher", basis });
    }
    const ownTtft = ttft(h.ttft.gauntlet);
    if (ownTtft) {
      let m: Measured | null = ownTtft;
      if (useRatio) {
        const other = bestOther(Object.entries(h.ttft).map(([k, v]) => [k, ttft(v)] as [string, Measured | null]), (x) => x?.value ?? Infinity, "lower");
        m = other ? ratio(ownTtft, other) : null;
      }
      if (m) out.set(`http ${h.preset} ${h.slots} slot(s) streaming TTFT p50`, { m, better: "lower", basis });
    }
  }
  for (const p of report.paths) {
    for (const row of p.rows) {
      const halves = row.halvesP50 ?? [row.p50];
      const m = measured(halves);
      if (m) out.set(`path ${p.preset} ${p.threads} thread(s) uv ${p.uvThreadpoolSize ?? "default"} ${row.path} p50 ms`, { m, better: "lower", basis: "absolute" });
    }
  }
  return out;
}

const hasLlamaServer = (r: EngineBenchReport) => r.llamaServer.available && r.http.some((h) => h.levels.some((l) => Object.keys(l.results).some((k) => k !== "gauntlet")));

export function compareReports(baseline: EngineBenchReport, current: EngineBenchReport, opts: GateOptions = {}): GateResult {
  const floor = opts.floor ?? 0.1;
  const k = opts.k ?? 3;
  const cap = opts.cap ?? 0.5;
  const notes: string[] = [];
  for (const key of ["engineBuild", "cores", "arch", "platform"] as const) {
    const a = baseline.environment[key];
    const b = current.environment[key];
    if (a !== b) {
      return { comparable: false, notes: [`the baseline ran with ${key} ${String(a)}, this run with ${String(b)}: not comparable, nothing gated`], comparisons: [], regressions: [] };
    }
  }
  const useRatio = hasLlamaServer(baseline) && hasLlamaServer(current);
  notes.push(
    useRatio
      ? "HTTP figures compared as ratios to llama-server measured in the same run (cancels machine-wide drift)"
      : "HTTP figures compared as absolute values (llama-server is missing from one of the runs)",
  );
  const base = figures(baseline, useRatio);
  const cur = figures(current, useRatio);
  const comparisons: Comparison[] = [];
  for (const [figure, c] of cur) {
    const b = base.get(figure);
    if (!b) continue;
    const change = c.m.value / b.m.value - 1;
    const worseBy = c.better === "higher" ? -change : change;
    const tolerance = Math.max(floor, k * Math.max(c.m.spread, b.m.spread));
    const verdict = tolerance > cap ? "too noisy" : worseBy > tolerance ? "regression" : "ok";
    comparisons.push({ figure, better: c.better, baseline: b.m.value, current: c.m.value, worseBy, tolerance: Math.min(tolerance, cap), basis: c.basis, verdict });
  }
  const missing = [...base.keys()].filter((f) => !cur.has(f));
  if (missing.length > 0) notes.push(`${missing.length} baseline figure(s) not measured in this run (other presets or options)`);
  if (comparisons.length === 0) notes.push("no figure is in both runs: nothing gated");
  return { comparable: comparisons.length > 0, notes, comparisons, regressions: comparisons.filter((c) => c.verdict === "regression") };
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3));

export function renderGate(g: GateResult, baselineName: string): string {
  const out = [`## Regression gate against ${baselineName}`, ""];
  for (const n of g.notes) out.push(`- ${n}`);
  out.push("");
  if (g.comparisons.length > 0) {
    out.push("| figure | better | baseline | this run | worse by | tolerance | basis | verdict |", "|---|---|---|---|---|---|---|---|");
    for (const c of g.comparisons) {
      const v = c.verdict === "regression" ? "❌ regression" : c.verdict === "too noisy" ? "⚠️ too noisy to gate" : "✅ ok";
      out.push(`| ${c.figure} | ${c.better} | ${num(c.baseline)} | ${num(c.current)} | ${pct(c.worseBy)} | ${pct(c.tolerance)} | ${c.basis} | ${v} |`);
    }
    out.push("");
  }
  out.push(g.regressions.length > 0 ? `${g.regressions.length} regression(s) beyond the noise tolerance.` : "No regression beyond the noise tolerance.");
  return out.join("\n") + "\n";
}
