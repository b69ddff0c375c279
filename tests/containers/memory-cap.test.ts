import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { containerLogs, containerState, peakOf, removeContainer, startMemorySampler } from "./helpers/docker-client.js";
import type { MemoryStat } from "./helpers/docker-client.js";
import { chatRequest, runLoad } from "./helpers/http-load.js";
import type { LoadSummary } from "./helpers/http-load.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";

const MEMORY_MB = 256;
/** The answers a server may give to a valid request under overload: done, queue full, shedding, timed out. */
const ALLOWED_STATUSES = [200, 429, 503, 504];

const mib = (b: number) => (b / 1048576).toFixed(1);

describe("server under a memory cap", () => {
  let server: ServerContainer | undefined;
  let flood: LoadSummary | undefined;
  let samples: MemoryStat[] = [];

  beforeAll(async () => {
    server = await startServerContainer({
      name: "memory-cap",
      memoryMb: MEMORY_MB,
      // A queued request must end (504) well inside the client's bound; the guard checks often.
      env: { REQUEST_TIMEOUT_MS: "10000", MEMORY_CHECK_MS: "250" },
    });
    const sampler = startMemorySampler(server.id, 500);
    try {
      // About 20 s at 20 requests/s of 128 tokens each, up to 150 outstanding: past what one slot serves
      // (about 10/s), so the queue fills and the server has to shed load.
      flood = await runLoad({
        url: server.url,
        requests: 400,
        ratePerSec: 20,
        maxInFlight: 150,
        // The server's own limit is 10 s (504): twice that means it stopped answering.
        timeoutMs: 20_000,
        request: (i) => chatRequest(i, { maxTokens: 128 }),
      });
    } finally {
      samples = await sampler.stop();
    }
    console.log(
      `[memory-cap] flood: ${JSON.stringify(flood)}; peak usage ${mib(peakOf(samples, "usageBytes"))} MiB, ` +
        `working set ${mib(peakOf(samples, "workingSetBytes"))} MiB of ${MEMORY_MB} MiB (${samples.length} samples)`,
    );
  }, 180_000);

  afterAll(async () => {
    await removeContainer(server?.id);
  });

  test("is never OOM-killed during a flood and keeps running", async () => {
    const state = await containerState(server!.id);
    expect(state.oomKilled, await containerLogs(server!.id)).toBe(false);
    expect(state.running).toBe(true);
  });

  test("answers every flood request with 200, 429, 503 or 504 and leaves none hanging", () => {
    expect(flood!.sent).toBe(400);
    expect(flood!.hung).toBe(0);
    expect(flood!.networkErrors).toBe(0);
    // A stream that started before the server's time limit may end with an SSE error event instead: only
    // the limit (the in-stream 504) may end it so, never a cut or another error.
    expect(flood!.streamErrorCodes.filter((code) => code !== "request_timeout")).toEqual([]);
    const statuses = Object.keys(flood!.byStatus).map(Number);
    expect(statuses.filter((s) => !ALLOWED_STATUSES.includes(s))).toEqual([]);
    expect(flood!.ok).toBeGreaterThan(0);
  });

  test("runs the flood under the memory cap it was given", () => {
    expect(samples.length).toBeGreaterThan(10);
    expect(new Set(samples.map((s) => s.limitBytes))).toEqual(new Set([MEMORY_MB * 1048576]));
  });

  test("still answers /health after the flood", async () => {
    const res = await fetch(`${server!.url}/health`);
    expect(res.status).toBe(200);
  });

  test("serves a normal request once the flood is over", async () => {
    const res = await fetch(`${server!.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "are you still there?" }], max_tokens: 8, temperature: 0 }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(200);
  });
});
