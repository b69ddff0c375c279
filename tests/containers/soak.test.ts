import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { theilSen } from "../../src/harness/soak/theil-sen.js";
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

const mib = (b: number) => (b / 1048576).toFixed(1);

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

  beforeAll(async () => {
    server = await startServerContainer({ name: "soak", memoryMb: MEMORY_MB });
    warmup = await steadyTraffic(server.url, WARMUP_MS, 0);
    const sampler = startMemorySampler(server.id, SAMPLE_EVERY_MS);
    try {
      measured = await steadyTraffic(server.url, MEASURE_MS, 1_000_000);
    } finally {
      samples = await sampler.stop();
    }
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

  test("projects less than 20% memory growth over the run from a robust slope after warm-up", () => {
    // Anonymous memory of the container's group: heap, native allocations, weights, KV cache; page cache
    // (reclaimable) left out.
    const points = samples.filter((s) => Number.isFinite(s.anonBytes)).map((s) => ({ x: (s.tMs - samples[0]!.tMs) / 1000, y: s.anonBytes }));
    expect(points.length).toBeGreaterThanOrEqual(30);
    const fit = theilSen(points);
    const spanS = points.at(-1)!.x - points[0]!.x;
    const baseline = fit.intercept + fit.slope * points[0]!.x;
    const growthPct = ((fit.slope * spanS) / baseline) * 100;
    const [lowPct, highPct] = [fit.slopeLow, fit.slopeHigh].map((s) => ((s * spanS) / baseline) * 100);
    console.log(
      `[soak] ${points.length} samples over ${spanS.toFixed(0)} s after a ${WARMUP_MS / 1000} s warm-up; ` +
        `${measured!.ok} requests; anon baseline ${mib(baseline)} MiB, slope ${(fit.slope / 1024).toFixed(1)} KiB/s, ` +
        `projected growth ${growthPct.toFixed(2)}% (95% CI ${lowPct!.toFixed(2)}..${highPct!.toFixed(2)}%); ` +
        `working set ${mib(samples[0]!.workingSetBytes)} -> ${mib(samples.at(-1)!.workingSetBytes)} MiB of ${MEMORY_MB} MiB`,
    );
    expect(baseline).toBeGreaterThan(0);
    expect(growthPct).toBeLessThan(MAX_GROWTH_PCT);
  });
});
