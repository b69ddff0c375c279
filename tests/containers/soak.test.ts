/**
 * A soak of a few minutes inside a capped container, judged by the project's own memory-growth verdict
 * (src/harness/soak: warm-up detection, Theil-Sen slope with its interval, projected growth over the run).
 *
 * Every request has a new deterministic prompt, so the response cache takes a new entry each time. Its memory
 * and disk bounds are set small (CACHE_MAX_BYTES, CACHE_DISK_MAX_BYTES) so both are reached during the warm-up:
 * in the measured part the cache is full and evicting, and what is left to see is the server's own steady
 * state, not a bounded cache still filling (which the default 64 MiB would be for the whole run).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { judgeMemory } from "../../src/harness/soak/index.js";
import type { MemoryVerdict } from "../../src/harness/soak/index.js";
import { containerLogs, containerState, removeContainer, startMemorySampler } from "./helpers/docker-client.js";
import type { MemoryStat } from "./helpers/docker-client.js";
import { chatRequest, runLoad } from "./helpers/http-load.js";
import type { LoadSummary } from "./helpers/http-load.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";

const MEMORY_MB = 384;
const WARMUP_MS = 20_000;
const MEASURE_MS = 120_000;
const SAMPLE_EVERY_MS = 2_000;
const MAX_GROWTH_PCT = 20;
/** About 600 answers of 32 tokens in memory, about 470 records on disk: both full within seconds. */
const CACHE_MAX_BYTES = 128 << 10;
const CACHE_DISK_MAX_BYTES = 256 << 10;
/** Far above a record of this test (a 32-token answer with its key, fingerprint and framing is under 2 KiB). */
const ONE_RECORD_MAX_BYTES = 4096;

const mib = (b: number) => (b / 1048576).toFixed(1);

interface CacheStats {
  memoryEntries: number;
  memoryBytes: number;
  diskEntries: number;
  diskBytes: number;
  diskEvictions: number;
}

async function cacheStats(url: string): Promise<CacheStats> {
  const body = (await (await fetch(`${url}/cache`, { signal: AbortSignal.timeout(10_000) })).json()) as { responses: CacheStats | null };
  if (!body.responses) throw new Error("GET /cache has no response cache");
  return body.responses;
}

/** Steady closed-loop traffic (two clients back to back) for `ms`, streaming and not, distinct prompts. */
function steadyTraffic(url: string, ms: number, offset: number): Promise<LoadSummary> {
  return runLoad({
    url,
    requests: 1_000_000,
    ratePerSec: 1000,
    maxInFlight: 2,
    timeoutMs: 30_000,
    request: (i) => chatRequest(offset + i, { maxTokens: 32 }),
    stop: AbortSignal.timeout(ms),
  });
}

describe("server soak in a capped container", () => {
  let server: ServerContainer | undefined;
  let warmup: LoadSummary | undefined;
  let measured: LoadSummary | undefined;
  let samples: MemoryStat[] = [];
  let atWarmupEnd: CacheStats | undefined;
  let atEnd: CacheStats | undefined;
  let verdict: MemoryVerdict | undefined;

  beforeAll(async () => {
    server = await startServerContainer({
      name: "soak",
      memoryMb: MEMORY_MB,
      env: { CACHE_MAX_BYTES: String(CACHE_MAX_BYTES), CACHE_DISK_MAX_BYTES: String(CACHE_DISK_MAX_BYTES) },
    });
    // Sampled from the first request on: the verdict finds the end of the warm-up itself (at least WARMUP_MS).
    const sampler = startMemorySampler(server.id, SAMPLE_EVERY_MS);
    try {
      warmup = await steadyTraffic(server.url, WARMUP_MS, 0);
      atWarmupEnd = await cacheStats(server.url);
      measured = await steadyTraffic(server.url, MEASURE_MS, 1_000_000);
      atEnd = await cacheStats(server.url);
    } finally {
      samples = await sampler.stop();
    }
    const t0 = samples[0]?.tMs ?? 0;
    verdict = judgeMemory(
      samples.map((s) => ({ tMs: s.tMs - t0, bytes: s.anonBytes })),
      { plannedDurationMs: WARMUP_MS + MEASURE_MS, maxGrowthPct: MAX_GROWTH_PCT, minWarmupMs: WARMUP_MS, startMs: 0 },
    );
    const v = verdict;
    const pct = (x: number | null) => (x === null ? "n/a" : `${x.toFixed(2)}%`);
    console.log(
      `[soak] ${warmup.ok} + ${measured.ok} requests; cache at the warm-up's end ${JSON.stringify(atWarmupEnd)}, at the end ${JSON.stringify(atEnd)}; ` +
        `${v.samples.total} samples, ${v.samples.postWarmup} after a warm-up of ${((v.warmup?.endX ?? 0) / 1000).toFixed(0)} s (${v.warmup?.reason}); ` +
        `anon baseline ${v.baselineBytes === null ? "n/a" : mib(v.baselineBytes)} MiB, slope ${v.slopeBytesPerHour === null ? "n/a" : (v.slopeBytesPerHour / 3600 / 1024).toFixed(2)} KiB/s ` +
        `(95% CI ${v.slopeCI ? `${(v.slopeCI.low / 3600 / 1024).toFixed(2)}..${(v.slopeCI.high / 3600 / 1024).toFixed(2)}` : "n/a"} KiB/s); ` +
        `projected growth ${pct(v.projectedGrowthPct)} (${pct(v.projectedGrowthPctLow)}..${pct(v.projectedGrowthPctHigh)}) over ${((v.horizonMs ?? 0) / 1000).toFixed(0)} s; ` +
        `verdict ${v.verdict}: ${v.reason}; working set ${mib(samples[0]!.workingSetBytes)} -> ${mib(samples.at(-1)!.workingSetBytes)} MiB of ${MEMORY_MB} MiB`,
    );
  }, 240_000);

  afterAll(async () => {
    await removeContainer(server?.id);
  });

  test("serves steady traffic for the whole soak without an error", async () => {
    expect(warmup!.ok).toBeGreaterThan(0);
    expect(measured!.ok).toBeGreaterThan(0);
    expect(measured!.ok, JSON.stringify(measured)).toBe(measured!.sent);
    const state = await containerState(server!.id);
    expect(state.oomKilled, await containerLogs(server!.id)).toBe(false);
    expect(state.running).toBe(true);
  });

  test("the response cache is full by the end of the warm-up and stays at its bounds, evicting, while measured", () => {
    for (const s of [atWarmupEnd!, atEnd!]) {
      expect(s.memoryBytes).toBeLessThanOrEqual(CACHE_MAX_BYTES);
      expect(s.memoryBytes).toBeGreaterThan(0.75 * CACHE_MAX_BYTES);
      // The disk store evicts right after each write (one write at a time): at most the record being written over.
      expect(s.diskBytes).toBeLessThanOrEqual(CACHE_DISK_MAX_BYTES + ONE_RECORD_MAX_BYTES);
      expect(s.diskBytes).toBeGreaterThan(0.75 * CACHE_DISK_MAX_BYTES);
    }
    // Far more answers than the cache holds: it evicted all along.
    expect(atEnd!.memoryEntries).toBeLessThan(measured!.ok / 4);
    expect(atEnd!.diskEvictions - atWarmupEnd!.diskEvictions).toBeGreaterThan(measured!.ok / 2);
  });

  test(`passes the soak's memory-growth verdict: projected growth under ${MAX_GROWTH_PCT}% even at the upper end of its interval`, () => {
    expect(verdict!.samples.postWarmup).toBeGreaterThanOrEqual(30);
    expect(verdict!.verdict, verdict!.reason).toBe("pass");
  });
});
