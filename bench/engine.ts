/**
 * npm run bench:engine — engine speed, side by side, in one run:
 *  1. generation paths in-process (LlamaChatSession, LlamaCompletion on tokens, sequence.evaluate(),
 *     the native fast path), one child process per thread plan (UV_THREADPOOL_SIZE is per process);
 *  2. over HTTP: `gauntlet serve` (its default thread plan) against llama.cpp's llama-server built
 *     from the same llama.cpp release, same GGUF file, same slots: requests/s at each connection
 *     count (own client, Little's law check) and streaming TTFT p50.
 * Unique prompts, temperature 0, max_tokens 32. Writes reports/bench-engine/<timestamp>/report.{json,md}.
 *
 * Regression gate: the run is compared with the previous report (reports/bench-engine/latest) or
 * with --baseline <report.json or its folder>; figures worse by more than their measured noise
 * (bench/engine-regression.ts) make the command exit 1. --no-gate only reports.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { embeddedModelId, ensureEmbeddedModel } from "../src/engine/embedded-model.js";
import { detectInstalledEngineBuild } from "../src/engine/engine-build.js";
import { createLlamaEngine } from "../src/engine/llama-engine.js";
import { createPlainEngine } from "../src/engine/plain-engine.js";
import { planThreads } from "../src/engine/thread-plan.js";
import type { Engine } from "../src/engine/types.js";
import { exactPercentile } from "../src/harness/stats/exact.js";
import { compareReports, renderGate, type GateResult } from "./engine-regression.js";
import { ensureLlamaServer } from "./llama-server-build.js";
import { measureTtft, runClosedLoop, type LoadTarget } from "./llama-server-load.js";
import { startGauntletServe, startLlamaServer, type RunningServer } from "./llama-server-process.js";
import { renderMarkdown, writeReport, type EngineBenchReport, type HttpLevel, type HttpPreset, type PathsResult } from "./llama-server-report.js";

const { values } = parseArgs({
  options: {
    presets: { type: "string", default: "tiny,small,medium" },
    slots: { type: "string", default: "1,2" },
    connections: { type: "string", default: "1,2,8" },
    requests: { type: "string", default: "400" },
    seconds: { type: "string", default: "20" },
    "ttft-requests": { type: "string", default: "100" },
    "paths-requests": { type: "string", default: "60" },
    "max-tokens": { type: "string", default: "32" },
    "skip-paths": { type: "boolean", default: false },
    "skip-http": { type: "boolean", default: false },
    "skip-llama-server": { type: "boolean", default: false },
    /** llama-server thread counts to run side by side (default: 1 and its own default, the core count). */
    "llama-server-threads": { type: "string" },
    child: { type: "string" },
    out: { type: "string", default: "reports" },
    /** A previous report.json (or its folder) to gate against; default: the latest report under --out. */
    baseline: { type: "string" },
    "no-gate": { type: "boolean", default: false },
    /** Smallest regression tolerance in percent (default 10). */
    "tolerance-floor": { type: "string", default: "10" },
  },
});

const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));
const MAX_TOKENS = Number(values["max-tokens"]);
const presets = values.presets!.split(",") as Array<"tiny" | "small" | "medium">;
const modelDir = join(tmpdir(), "gauntlet-test-models");
const CONTEXT = 2048;

/** Every generation path on one thread plan, interleaved in rotating order; same prompts for all. */
async function runPathsChild(o: { modelPath: string; threads: number; all: boolean; requests: number; maxTokens: number; contextSize: number }): Promise<PathsResult> {
  const base = { modelPath: o.modelPath, modelId: "bench", slots: 1, threads: o.threads, contextSize: o.contextSize, gpu: false as const };
  const engines: Record<string, Engine> = o.all
    ? {
        "LlamaChatSession": await createPlainEngine({ ...base, mode: "chat-session" }),
        "LlamaCompletion (Token[])": await createPlainEngine({ ...base, mode: "completion" }),
        "sequence.evaluate()": await createLlamaEngine({ ...base, generationPath: "evaluate", threadGovernor: false }),
        "native (default)": await createLlamaEngine({ ...base, generationPath: "native" }),
      }
    : {
        "native, fixed threads": await createLlamaEngine({ ...base, generationPath: "native", threadGovernor: false }),
        "native (default)": await createLlamaEngine({ ...base, generationPath: "native" }),
      };
  // With an addon built by `gauntlet engine build`, the loops it replaces beside it: one hand-off per token
  // (decodeBatchAndSampleToken alone) and the stock two-call loop.
  const defaultHandOffs = engines["native (default)"]!.info().handOffsPerToken;
  if (o.all && defaultHandOffs === 0) {
    engines["native, one hand-off per token"] = await createLlamaEngine({ ...base, generationPath: "native", handOffs: "one" });
  }
  if (o.all && defaultHandOffs !== undefined && defaultHandOffs < 2) {
    engines["native, two hand-offs per token"] = await createLlamaEngine({ ...base, generationPath: "native", handOffs: "two" });
  }
  const names = Object.keys(engines);
  const params = { maxTokens: o.maxTokens, temperature: 0, topP: 1, stop: [] as string[] };
  const samples: Record<string, { ms: number[]; ttft: number[]; texts: string[] }> = Object.fromEntries(names.map((n) => [n, { ms: [], ttft: [], texts: [] }]));
  const once = async (name: string, i: number, keep: boolean) => {
    const t0 = performance.now();
    let ttft = -1;
    const r = await engines[name]!.generate({ messages: [{ role: "user", content: `Path request ${i}: describe the weather in a few words.` }], params, slot: 0 }, () => {
      if (ttft < 0) ttft = performance.now() - t0;
    });
    if (!keep) return;
    samples[name]!.ms.push(performance.now() - t0);
    samples[name]!.ttft.push(ttft);
    samples[name]!.texts.push(r.text);
  };
  for (let i = 0; i < 10; i++) for (const n of names) await once(n, 900_000 + i, false);
  for (let i = 0; i < o.requests; i++) for (let k = 0; k < names.length; k++) await once(names[(i + k) % names.length]!, i, true);
  for (const e of Object.values(engines)) await e.close();
  const ref = samples["native (default)"]!.texts;
  const pct = (xs: number[], p: number) => exactPercentile([...xs].sort((a, b) => a - b), p) ?? 0;
  return {
    rows: names.map((n) => {
      const s = samples[n]!;
      const half = Math.floor(s.ms.length / 2);
      return {
        path: n,
        n: s.ms.length,
        p50: pct(s.ms, 50),
        p90: pct(s.ms, 90),
        mean: s.ms.reduce((a, b) => a + b, 0) / s.ms.length,
        ttftP50: pct(s.ttft, 50),
        sameTextAsNative: s.texts.every((t, i) => t === ref[i]),
        halvesP50: [pct(s.ms.slice(0, half), 50), pct(s.ms.slice(half), 50)],
      };
    }),
  };
}

if (values.child) {
  // Child mode: one thread plan, every generation path, JSON on stdout.
  const [preset, threads, which] = values.child.split(":");
  const model = await ensureEmbeddedModel(modelDir, preset as "tiny");
  const result = await runPathsChild({ modelPath: model.path, threads: Number(threads), all: which === "all", requests: Number(values["paths-requests"]), maxTokens: MAX_TOKENS, contextSize: CONTEXT });
  process.stdout.write(`\n@@RESULT@@${JSON.stringify(result)}\n`);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const cores = availableParallelism();
const build = detectInstalledEngineBuild();
const slotCounts = values.slots!.split(",").map(Number);
const startedAt = new Date().toISOString();

/** Runs one thread plan's paths in a fresh process with its own UV_THREADPOOL_SIZE. */
function pathsIn(preset: string, threads: number, uv: number | null, all: boolean): PathsResult & { threads: number; uvThreadpoolSize: number | null } {
  const env = { ...process.env };
  if (uv === null) delete env.UV_THREADPOOL_SIZE;
  else env.UV_THREADPOOL_SIZE = String(uv);
  // The medium model takes ~0.5 s per request per path: fewer requests keep the run bounded.
  const n = Number(values["paths-requests"]);
  const requests = String(preset === "medium" ? Math.max(8, Math.round(n / 5)) : preset === "small" ? Math.max(8, Math.round(n / 2)) : n);
  const out = execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", `${preset}:${threads}:${all ? "all" : "native"}`, "--paths-requests", requests, "--max-tokens", String(MAX_TOKENS)], { env, encoding: "utf8", maxBuffer: 1 << 24, timeout: 15 * 60_000 });
  const line = out.split("\n").find((l) => l.startsWith("@@RESULT@@"));
  if (!line) throw new Error("the paths child printed no result");
  return { ...(JSON.parse(line.slice(10)) as PathsResult), threads, uvThreadpoolSize: uv };
}

const report: EngineBenchReport = {
  schemaVersion: 1,
  benchmark: "engine",
  startedAt,
  environment: { node: process.version, platform: process.platform, arch: process.arch, cores, engineBuild: build.kind, gauntletThreadPlans: slotCounts.map((slots) => planThreads({ build: build.kind, cores, slots }).summary).join(" | "), loadAverage1mAtStart: loadavg()[0]!.toFixed(2) },
  method:
    `unique prompts, temperature 0, max_tokens ${MAX_TOKENS}, f32 embedded models; in-process paths interleaved in rotating order after a warm-up; ` +
    `HTTP: both servers run at once as separate processes on 127.0.0.1 with the same number of slots (${slotCounts.join(" and ")}), the same GGUF file and context ${CONTEXT} per slot; ` +
    `each connection level runs in 2 rounds per server in alternating order (A B B A); closed loop with the benchmark's own keep-alive client, ` +
    `timing each request from the moment it is written (immune to the autocannon stale-timing trap), Little's law ratio reported; ` +
    `TTFT = request written -> first SSE chunk with content, sequential streams; exact nearest-rank percentiles`,
  paths: [],
  http: [],
  llamaServer: { available: false, reason: "not attempted" },
};

if (!values["skip-paths"]) {
  for (const preset of presets) {
    // Every path at 1 thread; then the native path with more threads (fixed vs governed), and
    // on the local build without UV_THREADPOOL_SIZE (every libuv worker its own OpenMP team).
    const plans: Array<[number, number | null, boolean]> =
      build.kind === "local" ? [[1, 1, true], [cores, 1, false], [cores, null, false]] : [[1, null, true], [2, null, false]];
    for (const [threads, uv, all] of plans) {
      log(`paths: ${preset}, ${threads} thread(s), UV_THREADPOOL_SIZE=${uv ?? "default"}`);
      report.paths.push({ preset, ...pathsIn(preset, threads, uv, all) });
    }
  }
}

if (!values["skip-http"]) {
  log("llama-server: building or finding it (CPU-only cmake build from node-llama-cpp's git bundle, outside the repo)");
  const ls = values["skip-llama-server"] ? ({ ok: false, reason: "skipped (--skip-llama-server)" } as const) : await ensureLlamaServer({ log });
  report.llamaServer = ls.ok ? { available: true, commit: ls.commit } : { available: false, reason: ls.reason };
  const connections = values.connections!.split(",").map(Number);
  for (const preset of presets) for (const slots of slotCounts) {
    const model = await ensureEmbeddedModel(modelDir, preset);
    const servers: Array<{ key: string; server: RunningServer }> = [];
    try {
      servers.push({ key: "gauntlet", server: await startGauntletServe({ repoRoot, modelPath: model.path, slots, contextSize: CONTEXT }) });
      const lsThreads = values["llama-server-threads"]?.split(",").map(Number) ?? [...new Set([1, cores])];
      if (ls.ok) {
        for (const t of lsThreads) {
          servers.push({ key: `llama-server -t ${t}`, server: await startLlamaServer({ binary: ls.binary, modelPath: model.path, slots, threads: t, contextSize: CONTEXT }) });
        }
      }
      const targets = servers.map((s) => ({ ...s, target: { url: s.server.url, model: embeddedModelId(preset), maxTokens: MAX_TOKENS } satisfies LoadTarget }));
      const prompt = (tag: string) => (i: number) => `Request ${tag}-${i}: describe the weather in a few words.`;
      for (const t of targets) await runClosedLoop(t.target, { connections: 2, maxRequests: 40, maxMs: 10_000, prompt: prompt(`warm-${t.key}`) });
      const entry: HttpPreset = { preset, slots, levels: [], ttft: {}, serverLog: targets[0]!.server.output().split("\n").filter((l) => l.includes("gauntlet:")).slice(0, 3) };
      for (const c of connections) {
        const level: HttpLevel = { connections: c, results: {} };
        const order = [...targets, ...[...targets].reverse()];
        const perRound = Math.ceil(Number(values.requests) / 2);
        for (const [round, t] of order.entries()) {
          log(`http: ${preset}, ${c} connection(s), ${t.key}, round ${round < targets.length ? 1 : 2}`);
          const r = await runClosedLoop(t.target, { connections: c, maxRequests: perRound, maxMs: (Number(values.seconds) * 1000) / 2, prompt: prompt(`c${c}-r${round}`) });
          const prev = level.results[t.key];
          level.results[t.key] = prev ? { runs: [...prev.runs, r] } : { runs: [r] };
        }
        entry.levels.push(level);
      }
      for (const t of [...targets, ...[...targets].reverse()]) {
        log(`ttft: ${preset}, ${t.key}`);
        const m = await measureTtft(t.target, Math.ceil(Number(values["ttft-requests"]) / 2), prompt(`ttft-${t.key}-${Math.random()}`));
        (entry.ttft[t.key] ??= []).push(m);
      }
      report.http.push(entry);
    } finally {
      for (const s of servers) await s.server.stop();
    }
  }
}

report.environment.loadAverage1mAtEnd = loadavg()[0]!.toFixed(2);

/** The baseline to gate against: --baseline, else the newest earlier report. */
function loadBaseline(): { name: string; report: EngineBenchReport } | null {
  const given = values.baseline;
  const path = given ? (given.endsWith(".json") ? given : join(given, "report.json")) : join(values.out!, "bench-engine", "latest", "report.json");
  if (!existsSync(path)) {
    if (given) throw new Error(`--baseline: no report at ${path}; give a report.json written by npm run bench:engine, or its folder`);
    return null;
  }
  const parsed = JSON.parse(readFileSync(path, "utf8")) as EngineBenchReport;
  if (parsed.benchmark !== "engine" || parsed.schemaVersion !== 1) throw new Error(`${path} is not an engine benchmark report (schemaVersion 1)`);
  return { name: given ? path : `the previous run (${parsed.startedAt})`, report: parsed };
}

const baseline = values["no-gate"] ? null : loadBaseline();
let gate: GateResult | null = null;
let md = renderMarkdown(report);
if (baseline) {
  gate = compareReports(baseline.report, report, { floor: Number(values["tolerance-floor"]) / 100 });
  md += `\n${renderGate(gate, baseline.name)}`;
} else if (!values["no-gate"]) {
  md += "\n## Regression gate\n\nNo earlier report to compare with: this run is the baseline of the next one.\n";
}
const dir = writeReport(join(values.out!, "bench-engine"), report, md);
if (gate) writeFileSync(join(dir, "gate.json"), `${JSON.stringify({ baseline: baseline!.name, ...gate }, null, 2)}\n`);
process.stdout.write(`${md}\nwritten to ${dir}\n`);
if (gate && gate.regressions.length > 0) process.exitCode = 1;
