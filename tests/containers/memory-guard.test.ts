import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { containerLogs, containerState, peakOf, removeContainer, startMemorySampler } from "./helpers/docker-client.js";
import type { MemoryStat } from "./helpers/docker-client.js";
import { chatRequest, runLoad } from "./helpers/http-load.js";
import type { LoadSummary } from "./helpers/http-load.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";

const MEMORY_MB = 256;
/** The server's test-only leak switch: every chat request keeps this much memory for good. */
const LEAK_KB_PER_REQUEST = 512;
/** Refusals to see before the load stops: enough to show the refusal holds, few enough to leak little. */
const REFUSALS_TO_SEE = 5;

const mib = (b: number) => (b / 1048576).toFixed(1);

/**
 * The memory guard's contract, in a real cgroup: it reads the container's limit and, as a leak drives the
 * process toward it, refuses new chat requests with 503 before the kernel's OOM killer steps in. The leak
 * never goes away, so there is no recovery to test here (memory-cap.test.ts tests recovery after a flood).
 */
describe("memory guard in a capped container", () => {
  let server: ServerContainer | undefined;
  let load: LoadSummary | undefined;
  let samples: MemoryStat[] = [];

  beforeAll(async () => {
    server = await startServerContainer({
      name: "memory-guard",
      memoryMb: MEMORY_MB,
      env: { GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST: String(LEAK_KB_PER_REQUEST), MEMORY_CHECK_MS: "100" },
    });
    const sampler = startMemorySampler(server.id, 500);
    // The switch leaks on every chat response, refused ones too: stop a few requests after the first
    // refusal, or the test itself would push the container past its cap.
    const stop = new AbortController();
    let refusals = 0;
    try {
      // 400 x 512 KiB = 200 MiB of leak on top of ~90 MiB: past the cap unless the guard refuses first.
      load = await runLoad({
        url: server.url,
        requests: 400,
        ratePerSec: 25,
        maxInFlight: 4,
        timeoutMs: 20_000,
        request: (i) => chatRequest(i, { maxTokens: 4, stream: false }),
        stop: stop.signal,
        onResponse: (status) => {
          if (status === 503 && ++refusals >= REFUSALS_TO_SEE) stop.abort();
        },
      });
    } finally {
      samples = await sampler.stop();
    }
    console.log(`[memory-guard] ${JSON.stringify(load)}; peak working set ${mib(peakOf(samples, "workingSetBytes"))} MiB of ${MEMORY_MB} MiB`);
  }, 120_000);

  afterAll(async () => {
    await removeContainer(server?.id);
  });

  test("refuses chat requests with 503 memory_pressure as a leak nears the cap", () => {
    expect(load!.byErrorCode.memory_pressure ?? 0).toBeGreaterThanOrEqual(REFUSALS_TO_SEE);
    expect(Object.keys(load!.byStatus).map(Number).sort()).toEqual([200, 503]);
    expect(load!.byErrorCode).toEqual({ memory_pressure: load!.byStatus[503] });
    expect(load!.hung + load!.networkErrors).toBe(0);
  });

  test("is never OOM-killed and keeps answering /health while it refuses", async () => {
    const state = await containerState(server!.id);
    expect(state.oomKilled, await containerLogs(server!.id)).toBe(false);
    expect(state.running).toBe(true);
    const res = await fetch(`${server!.url}/health`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; reasons: string[] };
    expect(body.status).toBe("degraded");
    expect(body.reasons.some((r) => /memory/i.test(r))).toBe(true);
  });
});
