/**
 * npm run bench:overhead — how much the HTTP server adds to the engine's own latency.
 *
 * One process, one run: the same kind of request (unique prompts, temperature 0, 32 tokens) goes
 * straight to the engine and through the HTTP server (non-streaming and streaming), interleaved so
 * drift affects every path alike. Writes reports/bench-overhead/<timestamp>/{report.json,report.md}.
 * Target: server p50 within 10% of the engine's p50 on the tiny model.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { defaultConfig } from "../src/config/index.js";
import { embeddedModelId, ensureEmbeddedModel } from "../src/engine/embedded-model.js";
import { createLlamaEngine } from "../src/engine/llama-engine.js";
import { exactPercentile } from "../src/harness/stats/exact.js";
import { buildServer } from "../src/server/app.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "150" },
    "max-tokens": { type: "string", default: "32" },
    preset: { type: "string", default: "tiny" },
    out: { type: "string", default: "reports" },
  },
});
const N = Number(values.requests);
const MAX_TOKENS = Number(values["max-tokens"]);
const preset = values.preset as "tiny" | "small" | "medium";
const TARGET_RATIO = 1.1;

const model = await ensureEmbeddedModel(join(tmpdir(), "gauntlet-test-models"), preset);
const engine = await createLlamaEngine({ modelPath: model.path, modelId: embeddedModelId(preset), slots: 1, threads: 1, contextSize: 2048, gpu: false });
const engineBuild = engine.info().build;
// No response cache: the engine path has none, and a second run would otherwise answer the HTTP paths from
// the first run's cache (./.gauntlet-cache) and report a meaningless ratio below 1.
const config = defaultConfig({ port: 0, cache: { enabled: false } });
const app = await buildServer({ settings: config, engine, ownsEngine: false });
await app.listen({ host: "127.0.0.1", port: 0 });
const addr = app.server.address();
const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/v1/chat/completions`;

const prompt = (tag: string, i: number) => [{ role: "user" as const, content: `Request ${String(i).padStart(5, "0")} via ${tag}: describe the weather.` }];
const params = { maxTokens: MAX_TOKENS, temperature: 0, topP: 1, seed: undefined, stop: [] };

async function viaEngine(i: number): Promise<number> {
  const t0 = performance.now();
  await engine.generate({ messages: prompt("eng", i), params, slot: 0 });
  return performance.now() - t0;
}

// The HTTP client runs in a worker thread: its own event loop, so the server's latency is not
// inflated by the client's JSON and SSE parsing on the same thread.
// tsx's loader is not inherited by workers on Node 20: register it inside the worker first.
const clientUrl = new URL("./overhead-client.ts", import.meta.url).href;
const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(clientUrl)}); });`;
const worker = new Worker(boot, { eval: true, workerData: { url, maxTokens: MAX_TOKENS } });
let nextId = 0;
const pending = new Map<number, (ms: number) => void>();
worker.on("message", (m: { id: number; ms: number; error?: string }) => {
  if (m.error) throw new Error(m.error);
  pending.get(m.id)?.(m.ms);
  pending.delete(m.id);
});
const viaWorker = (mode: "http" | "stream" | "noop", i: number) =>
  new Promise<number>((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    worker.postMessage({ id, mode, i });
  });
const viaHttp = (i: number) => viaWorker("http", i);
const viaStream = (i: number) => viaWorker("stream", i);
// Where the difference goes: the same request through the server without a socket (fastify's inject), and the
// same client's round trip to a route that does no work (the floor that loopback and the client set).
async function viaInject(i: number): Promise<number> {
  const t0 = performance.now();
  const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: prompt("inj", i), max_tokens: MAX_TOKENS, temperature: 0 } });
  if (res.statusCode !== 200) throw new Error(`inject answered ${res.statusCode}: ${res.body}`);
  return performance.now() - t0;
}
const viaNoop = () => viaWorker("noop", 0);

const paths = { engine: viaEngine, http: viaHttp, stream: viaStream, inject: viaInject, noop: viaNoop };
const samples: Record<keyof typeof paths, number[]> = { engine: [], http: [], stream: [], inject: [], noop: [] };
const order = Object.keys(paths) as Array<keyof typeof paths>;

for (let i = 0; i < 15; i++) for (const p of order) await paths[p](100000 + i); // warm-up
for (let i = 0; i < N; i++) {
  // Rotate the order so no path always runs first after the others.
  for (let k = 0; k < order.length; k++) {
    const p = order[(i + k) % order.length]!;
    samples[p].push(await paths[p](i));
  }
  if (process.stdout.isTTY) process.stdout.write(`\r${i + 1}/${N}`);
}
if (process.stdout.isTTY) process.stdout.write("\n");
await worker.terminate();
await app.close();
await engine.close();

const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { n: xs.length, p50: exactPercentile(sorted, 50)!, p95: exactPercentile(sorted, 95)!, mean: xs.reduce((a, b) => a + b, 0) / xs.length };
};
const s = { engine: summary(samples.engine), http: summary(samples.http), stream: summary(samples.stream), inject: summary(samples.inject), noop: summary(samples.noop) };
const ratio = (a: { p50: number; p95: number }) => ({ p50: a.p50 / s.engine.p50, p95: a.p95 / s.engine.p95 });
const ratios = { http: ratio(s.http), stream: ratio(s.stream) };
const pass = ratios.http.p50 < TARGET_RATIO && ratios.stream.p50 < TARGET_RATIO;
// The lowest ratio any server could reach with this client on this machine: the engine plus a round trip that
// does no work. When it is above the target, the target cannot be met here, whatever the server does.
const floorRatio = (s.engine.p50 + s.noop.p50) / s.engine.p50;
const breakdown = {
  serverInProcessMs: s.inject.p50 - s.engine.p50,
  socketAndClientMs: s.http.p50 - s.inject.p50,
  emptyRoundTripMs: s.noop.p50,
  floorRatio,
  targetReachableHere: floorRatio < TARGET_RATIO,
};

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const root = join(values.out!, "bench-overhead");
const dir = join(root, stamp);
mkdirSync(dir, { recursive: true });
const report = {
  schemaVersion: 1,
  benchmark: "overhead",
  startedAt: new Date().toISOString(),
  environment: { node: process.version, platform: process.platform, arch: process.arch, modelPreset: preset, modelSha256: model.sha256, engineBuild: engineBuild },
  method: `${N} requests per path (engine direct, HTTP non-streaming, HTTP streaming, the server through inject, an empty HTTP round trip) after 15 warm-up rounds, interleaved with rotating order; unique prompts; temperature 0; max_tokens ${MAX_TOKENS}; one slot, one thread; exact nearest-rank percentiles; latency is end to end as the client sees it (to the parsed JSON body, or to data: [DONE]); the HTTP client runs in a worker thread`,
  latencyMs: s,
  ratios,
  breakdown,
  target: { description: "server p50 / engine p50 < 1.10 (streaming and not)", ratio: TARGET_RATIO },
  verdict: pass ? "pass" : "fail",
};
const fmt = (x: number) => x.toFixed(2);
const md = `# Server overhead benchmark ${pass ? "✅" : "❌"}

${report.method}.

| path | p50 ms | p95 ms | mean ms | p50 ratio | p95 ratio |
|---|---|---|---|---|---|
| engine (direct) | ${fmt(s.engine.p50)} | ${fmt(s.engine.p95)} | ${fmt(s.engine.mean)} | 1.00 | 1.00 |
| HTTP non-streaming | ${fmt(s.http.p50)} | ${fmt(s.http.p95)} | ${fmt(s.http.mean)} | ${fmt(ratios.http.p50)} | ${fmt(ratios.http.p95)} |
| HTTP streaming | ${fmt(s.stream.p50)} | ${fmt(s.stream.p95)} | ${fmt(s.stream.mean)} | ${fmt(ratios.stream.p50)} | ${fmt(ratios.stream.p95)} |
| server without a socket (inject) | ${fmt(s.inject.p50)} | ${fmt(s.inject.p95)} | ${fmt(s.inject.mean)} | ${fmt(s.inject.p50 / s.engine.p50)} | ${fmt(s.inject.p95 / s.engine.p95)} |
| empty round trip (GET /health/ready) | ${fmt(s.noop.p50)} | ${fmt(s.noop.p95)} | ${fmt(s.noop.mean)} | | |

Where the non-streaming difference goes (p50): ${fmt(breakdown.serverInProcessMs)} ms in the server's own work (inject − engine),
${fmt(breakdown.socketAndClientMs)} ms on the socket and in the client (HTTP − inject). An empty round trip with the same client
takes ${fmt(s.noop.p50)} ms, so no server could score below ${fmt(floorRatio)} here${breakdown.targetReachableHere ? "" : ": the target is out of reach on this machine with this model"}.

Target: ${report.target.description} — ${pass ? "✅ met" : "❌ not met"}.
`;
writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, "report.md"), md);
rmSync(join(root, "latest"), { force: true });
symlinkSync(stamp, join(root, "latest"));
process.stdout.write(`${md}\nwritten to ${dir}\n`);
