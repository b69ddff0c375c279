/**
 * What this harness can drive at all, to tell when it, not the server, was the limit: taken from
 * the latest `npm run bench:harness` report when one exists for this machine, else measured by a
 * quick in-run probe against the trivial endpoint.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import type { AutocannonFn } from "../load/autocannon-driver.js";
import { measureCapacity } from "../load/capacity-probe.js";
import type { Clock } from "../load/clock.js";
import { startTrivialEndpoint } from "../load/trivial-endpoint.js";

export interface HarnessCapacity {
  jsonRps: number;
  streamRps: number;
  /** Where the figures come from, for the report. */
  source: string;
}

/** The bench report's fields this module reads (bench/harness.ts writes them). */
export interface BenchCapacityFile {
  kind: "bench-harness";
  startedAt: string;
  environment: { node: string; cpuModel: string; cores: number };
  capacity: { jsonRps: number; streamRps: number; connections: number };
}

export function benchEnvironment(): BenchCapacityFile["environment"] {
  return { node: process.version, cpuModel: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism() };
}

/** Capacity from `<reportsRoot>/bench-harness/latest/report.json` if it was measured on this machine and Node. */
export async function readBenchCapacity(reportsRoot: string): Promise<HarnessCapacity | null> {
  const path = join(reportsRoot, "bench-harness", "latest", "report.json");
  try {
    const f = JSON.parse(await readFile(path, "utf8")) as Partial<BenchCapacityFile>;
    const here = benchEnvironment();
    const env = f.environment;
    if (f.kind !== "bench-harness" || !env || env.node !== here.node || env.cpuModel !== here.cpuModel || env.cores !== here.cores) return null;
    const c = f.capacity;
    if (!c || !(c.jsonRps > 0) || !(c.streamRps > 0)) return null;
    return { jsonRps: c.jsonRps, streamRps: c.streamRps, source: `bench:harness report of ${f.startedAt}` };
  } catch {
    return null;
  }
}

export const PROBE_CONNECTIONS = 16;

/** A short measurement (a few hundred requests per mode) when no bench report is available. */
export async function probeCapacity(clock: Clock, requests = 300, autocannon: AutocannonFn | null = null): Promise<HarnessCapacity> {
  const endpoint = await startTrivialEndpoint();
  try {
    const common = { baseUrl: endpoint.baseUrl, connections: PROBE_CONNECTIONS, requests, clock, autocannon };
    // Warm-up (JIT, sockets) so the first mode measured is not the slower one for that reason alone.
    await measureCapacity({ ...common, requests: Math.ceil(requests / 4), stream: false });
    await measureCapacity({ ...common, requests: Math.ceil(requests / 4), stream: true });
    const json = await measureCapacity({ ...common, stream: false });
    const stream = await measureCapacity({ ...common, stream: true });
    return { jsonRps: json.rps, streamRps: stream.rps, source: `in-run probe (${requests} requests per mode)` };
  } finally {
    await endpoint.close();
  }
}
