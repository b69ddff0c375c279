/**
 * npm run bench:harness — how many requests per second this harness can drive, and what it costs
 * per request, against a trivial local endpoint (a bare node:http server on 127.0.0.1 in a worker
 * thread, answering a canned chat.completion or a canned SSE stream). Bounded: a fixed number of
 * requests per measurement, loopback only.
 *
 * Writes reports/bench-harness/<timestamp>/report.{json,md} and points reports/bench-harness/latest
 * at it. `gauntlet stress` and `gauntlet gate` read `capacity` from there (same machine and Node
 * only) to say when the harness, not the server, was the limit.
 */
import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { loadAutocannon } from "../src/harness/load/autocannon-driver.js";
import { measureCapacity } from "../src/harness/load/capacity-probe.js";
import type { CapacityResult } from "../src/harness/load/capacity-probe.js";
import { systemClock } from "../src/harness/load/clock.js";
import { startTrivialEndpoint } from "../src/harness/load/trivial-endpoint.js";
import { benchEnvironment } from "../src/harness/runner/harness-capacity.js";
import type { BenchCapacityFile } from "../src/harness/runner/harness-capacity.js";
import { ESTIMATOR } from "../src/harness/stats/histogram.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    connections: { type: "string", default: "1,4,16,64" },
    out: { type: "string", default: "reports" },
  },
});
const REQUESTS = Number(values.requests);
const CONNECTIONS = values.connections!.split(",").map(Number);
if (!(REQUESTS >= 10 && REQUESTS <= 100_000) || CONNECTIONS.some((c) => !(Number.isInteger(c) && c >= 1 && c <= 512))) {
  process.stderr.write("bench:harness: --requests must be 10..100000 and --connections a list of integers 1..512\n");
  process.exit(2);
}

interface Run extends CapacityResult {
  /** Harness main-thread busy time per request (event-loop utilization), in ms. */
  mainThreadMsPerRequest: number;
}

const startedAt = new Date();
const loadAverageAtStart = os.loadavg();
const autocannon = await loadAutocannon();
if (autocannon === null) {
  process.stderr.write("bench:harness: autocannon is not installed: run npm install\n");
  process.exit(2);
}
const endpoint = await startTrivialEndpoint();
const runs: Run[] = [];
try {
  // Warm-up: JIT, sockets, the worker's server.
  for (const stream of [false, true]) await measureCapacity({ baseUrl: endpoint.baseUrl, stream, connections: 8, requests: Math.min(500, REQUESTS), clock: systemClock, autocannon });
  for (const stream of [false, true]) {
    for (const connections of CONNECTIONS) {
      const before = performance.eventLoopUtilization();
      const r = await measureCapacity({ baseUrl: endpoint.baseUrl, stream, connections, requests: REQUESTS, clock: systemClock, autocannon });
      const elu = performance.eventLoopUtilization(before);
      runs.push({ ...r, mainThreadMsPerRequest: elu.active / REQUESTS });
      process.stdout.write(`${stream ? "stream" : "plain "} (${r.client}) c=${String(connections).padStart(3)}: ${Math.round(r.rps)} req/s, p50 ${r.latencyMs.p50?.toFixed(3)} ms, ${r.errors} errors\n`);
    }
  }
} finally {
  await endpoint.close();
}

const best = (stream: boolean) => runs.filter((r) => r.stream === stream && r.errors === 0).reduce((a, b) => (b.rps > a.rps ? b : a));
const single = (stream: boolean) => runs.find((r) => r.stream === stream && r.connections === Math.min(...CONNECTIONS))!;
const bestJson = best(false);
const bestStream = best(true);
const overhead = {
  plainLatencyP50Ms: single(false).latencyMs.p50,
  streamLatencyP50Ms: single(true).latencyMs.p50,
  plainMainThreadMsPerRequest: bestJson.mainThreadMsPerRequest,
  streamMainThreadMsPerRequest: bestStream.mainThreadMsPerRequest,
};
const report: BenchCapacityFile & Record<string, unknown> = {
  kind: "bench-harness",
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  environment: { ...benchEnvironment(), platform: process.platform, arch: process.arch, totalMemoryBytes: os.totalmem(), loadAverageAtStart } as BenchCapacityFile["environment"],
  method:
    `the clients stress runs use, in a closed loop: plain requests through autocannon, streamed ones through gauntlet's own client ` +
    `(node:http keep-alive; SSE parsed per chunk with TTFT/ITL bookkeeping); rate from the first send to the last answer; ` +
    `${REQUESTS} requests per measurement at ${CONNECTIONS.join(", ")} connection(s), after a warm-up; the endpoint runs in a worker thread ` +
    `and answers a canned 7-token chat.completion or SSE stream. Overhead per request: client latency at ${Math.min(...CONNECTIONS)} connection ` +
    `(client + loopback + a server doing nothing) and the harness main thread's busy time per request (event-loop utilization). ` +
    `Percentiles: ${ESTIMATOR}.`,
  runs,
  overhead,
  capacity: { jsonRps: bestJson.rps, streamRps: bestStream.rps, connections: Math.max(bestJson.connections, bestStream.connections) },
};

const f = (v: number | null, d = 2) => (v === null ? "-" : v.toFixed(d));
const md = `# Harness capacity benchmark

${report.method}

Machine: ${report.environment.cpuModel}, ${report.environment.cores} cores, Node ${report.environment.node}; load average at start ${loadAverageAtStart.map((v) => v.toFixed(2)).join(" / ")}.

| mode | connections | req/s | p50 ms | p99 ms | main-thread ms/request | errors |
| --- | --: | --: | --: | --: | --: | --: |
${runs.map((r) => `| ${r.stream ? "SSE" : "plain"} | ${r.connections} | ${Math.round(r.rps)} | ${f(r.latencyMs.p50, 3)} | ${f(r.latencyMs.p99, 3)} | ${f(r.mainThreadMsPerRequest, 4)} | ${r.errors} |`).join("\n")}

**Capacity** (best of the connection counts): ${Math.round(bestJson.rps)} req/s plain, ${Math.round(bestStream.rps)} req/s streamed.
**Overhead per request**: ${f(overhead.plainLatencyP50Ms, 3)} ms plain, ${f(overhead.streamLatencyP50Ms, 3)} ms streamed (p50 at one connection);
main thread ${f(bestJson.mainThreadMsPerRequest, 4)} ms plain, ${f(bestStream.mainThreadMsPerRequest, 4)} ms streamed.

A stress scenario whose throughput comes within ${80}% of these figures is reported INVALID: the harness, not the server, set the pace.
`;

const root = join(values.out!, "bench-harness");
const stamp = startedAt.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
const dir = join(root, stamp);
await mkdir(dir, { recursive: true });
await writeFile(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
await writeFile(join(dir, "report.md"), md);
const tmpLink = join(root, `.latest-${process.pid}`);
await rm(tmpLink, { force: true });
await symlink(stamp, tmpLink);
await rename(tmpLink, join(root, "latest"));
process.stdout.write(`\n${md}\nwritten to ${dir}\n`);
