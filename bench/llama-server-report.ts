/** The engine benchmark's report (our server vs llama.cpp's llama-server): types, Markdown, files. */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadRun } from "./llama-server-load.js";

export interface PathRow {
  path: string;
  n: number;
  p50: number;
  p90: number;
  mean: number;
  ttftP50: number;
  sameTextAsNative: boolean;
  /** p50 of the first and of the second half of the requests (their spread is the regression gate's noise). */
  halvesP50?: number[];
}

export interface PathsResult {
  rows: PathRow[];
}

/** "gauntlet" or "llama-server -t N". */
export type ServerKey = string;

export interface HttpLevel {
  connections: number;
  results: Record<ServerKey, { runs: LoadRun[] }>;
}

export interface TtftRun {
  n: number;
  errors: number;
  ttftMs: { p50: number; p90: number; p99: number; mean: number };
}

export interface HttpPreset {
  preset: string;
  slots: number;
  levels: HttpLevel[];
  ttft: Record<ServerKey, TtftRun[]>;
  /** Our server's start-up lines (engine build and thread plan). */
  serverLog: string[];
}

export interface EngineBenchReport {
  schemaVersion: 1;
  benchmark: "engine";
  startedAt: string;
  environment: Record<string, string | number>;
  method: string;
  paths: Array<PathsResult & { preset: string; threads: number; uvThreadpoolSize: number | null }>;
  http: HttpPreset[];
  llamaServer: { available: true; commit: string } | { available: false; reason: string };
}

/** Requests/s over all rounds: total completed / total elapsed; latency and Little's ratio of the rounds. */
export function combine(runs: LoadRun[]) {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const elapsed = runs.reduce((a, r) => a + r.elapsedMs, 0);
  const weighted = (f: (r: LoadRun) => number) => (requests ? runs.reduce((a, r) => a + f(r) * r.requests, 0) / requests : 0);
  return {
    requests,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    requestsPerSecond: elapsed ? (requests * 1000) / elapsed : 0,
    p50: weighted((r) => r.latencyMs.p50),
    littlesLawRatio: weighted((r) => r.littlesLawRatio),
    completionTokens: weighted((r) => r.meanCompletionTokens),
  };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

export function renderMarkdown(r: EngineBenchReport): string {
  const out: string[] = [`# Engine benchmark (${r.startedAt})`, "", r.method + ".", ""];
  out.push("Environment: " + Object.entries(r.environment).map(([k, v]) => `${k} ${v}`).join(", ") + ".", "");

  if (r.paths.length > 0) {
    out.push("## Generation paths (in-process, 1 slot, ms per request)", "");
    out.push("| preset | threads | UV_THREADPOOL_SIZE | path | n | p50 | p90 | mean | TTFT p50 | same text as native |", "|---|---|---|---|---|---|---|---|---|---|");
    for (const p of r.paths) {
      for (const row of p.rows) {
        out.push(`| ${p.preset} | ${p.threads} | ${p.uvThreadpoolSize ?? "default (4)"} | ${row.path} | ${row.n} | ${f2(row.p50)} | ${f2(row.p90)} | ${f2(row.mean)} | ${f2(row.ttftP50)} | ${row.sameTextAsNative ? "yes" : "NO"} |`);
      }
    }
    out.push("");
  }

  out.push("## HTTP: gauntlet serve vs llama.cpp's llama-server", "");
  if (!r.llamaServer.available) out.push(`llama-server was not available: ${r.llamaServer.reason}. No llama-server figures are reported.`, "");
  else out.push(`llama-server built from llama.cpp commit ${r.llamaServer.commit.slice(0, 10)} (the release node-llama-cpp bundles).`, "");
  for (const h of r.http) {
    const keys = Object.keys(h.levels[0]?.results ?? {});
    const others = keys.filter((k) => k !== "gauntlet");
    out.push(`### ${h.preset}, ${h.slots} slot(s) each`, "");
    if (h.serverLog.length) out.push("gauntlet start-up: `" + h.serverLog.join(" / ").replace(/`/g, "'") + "`", "");
    out.push(
      `| connections | ${keys.map((k) => `${k} req/s (p50 ms)`).join(" | ")} | gauntlet / best llama-server | Little's law ratios | completion tokens | errors | target |`,
      `|---|${keys.map(() => "---").join("|")}|---|---|---|---|---|`,
    );
    for (const l of h.levels) {
      const c = Object.fromEntries(keys.map((k) => [k, l.results[k] ? combine(l.results[k]!.runs) : null]));
      const g = c.gauntlet;
      const best = Math.max(0, ...others.map((k) => c[k]?.requestsPerSecond ?? 0));
      const ratio = g && best > 0 ? g.requestsPerSecond / best : null;
      const verdict = ratio === null ? "n/a" : ratio >= 1 ? "✅ met" : "❌ not met";
      const cell = (k: string, f: (x: NonNullable<(typeof c)[string]>) => string) => (c[k] ? f(c[k]!) : "-");
      out.push(
        `| ${l.connections} | ${keys.map((k) => cell(k, (x) => `${f1(x.requestsPerSecond)} (${f2(x.p50)})`)).join(" | ")} | ${ratio === null ? "-" : f2(ratio)} | ` +
          `${keys.map((k) => cell(k, (x) => f2(x.littlesLawRatio))).join(" / ")} | ${keys.map((k) => cell(k, (x) => f1(x.completionTokens))).join(" / ")} | ` +
          `${keys.map((k) => cell(k, (x) => String(x.errors))).join(" / ")} | ${verdict} |`,
      );
    }
    const tt = (k: ServerKey) => {
      const runs = h.ttft[k];
      if (!runs?.length) return null;
      const n = runs.reduce((a, x) => a + x.n, 0);
      return { n, p50: runs.reduce((a, x) => a + x.ttftMs.p50 * x.n, 0) / Math.max(1, n) };
    };
    const g = tt("gauntlet");
    const bestOther = others.map(tt).filter((x): x is NonNullable<typeof x> => x !== null).sort((a, b) => a.p50 - b.p50)[0];
    out.push("", `| streaming TTFT p50 ms (n) | ${keys.join(" | ")} | target |`, `|---|${keys.map(() => "---").join("|")}|---|`);
    out.push(
      `| | ${keys.map((k) => { const t = tt(k); return t ? `${f2(t.p50)} (${t.n})` : "-"; }).join(" | ")} | ${g && bestOther ? (g.p50 <= bestOther.p50 ? "✅ met" : "❌ not met") : "n/a"} |`,
      "",
    );
  }
  out.push("Requests/s = completed requests / elapsed time summed over both rounds; p50 and Little's ratio are request-weighted means of the rounds' values; TTFT p50 is the request-weighted mean of the two rounds' p50. Targets compare gauntlet with the best llama-server configuration measured.");
  return out.join("\n") + "\n";
}

export function writeReport(root: string, report: EngineBenchReport, md: string): string {
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  const dir = join(root, stamp);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), md);
  rmSync(join(root, "latest"), { force: true });
  symlinkSync(stamp, join(root, "latest"));
  return dir;
}
