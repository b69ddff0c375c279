import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { containerLogs, containerState, peakOf, removeContainer, startMemorySampler } from "./helpers/docker-client.js";
import type { MemoryStat } from "./helpers/docker-client.js";
import { chatRequest, runLoad } from "./helpers/http-load.js";
import type { LoadSummary } from "./helpers/http-load.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";
import { uploadPressure } from "./helpers/upload-pressure.js";

const MEMORY_MB = 256;
/** The server's test-only leak switch: every chat request keeps this much memory for good. */
const LEAK_KB_PER_REQUEST = 512;
/** Refusals to see before the load stops: enough to show the refusal holds, few enough to leak little. */
const REFUSALS_TO_SEE = 5;

const mib = (b: number) => (b / 1048576).toFixed(1);

/**
 * The memory guard's contract, in a real cgroup: it reads the container's limit and, as a leak drives the
 * process toward it, refuses new chat requests with 503 before the kernel's OOM killer steps in. The leak
 * never goes away, so there is no recovery to test here (see the pressure that goes away, below).
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

interface Probe {
  status: number;
  retryAfter: string | null;
  code: string | null;
}

async function probe(url: string, i: number): Promise<Probe> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: `probe ${i}` }], max_tokens: 4, temperature: 0 }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let code: string | null = null;
  try {
    code = String((JSON.parse(text) as { error?: { code?: unknown } }).error?.code ?? "") || null;
  } catch {
    code = null;
  }
  return { status: res.status, retryAfter: res.headers.get("retry-after"), code };
}

async function memoryHealth(url: string): Promise<{ status: string; reasons: string[]; usagePct: number | null; state: string | null }> {
  const body = (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })).json()) as {
    status: string;
    reasons: string[];
    memoryGuard?: { usagePct?: number; state?: string };
  };
  return { status: body.status, reasons: body.reasons, usagePct: body.memoryGuard?.usagePct ?? null, state: body.memoryGuard?.state ?? null };
}

/** Each held upload keeps this much of the server's memory in use. */
const HELD_MIB = 8;
/** The guard refuses from this share of the cap: about 180 MiB of 256, well before the kernel's OOM killer. */
const REJECT_PCT = 70;
const MAX_HOLDERS = 20;
const RECOVER_WITHIN_MS = 30_000;

/**
 * Pressure that goes away: uploads held part way keep memory in use until their connections close. The guard
 * must refuse new chat requests (503 memory_pressure with Retry-After) while it lasts and serve again once the
 * memory is freed, and the kernel's OOM killer must never step in.
 */
describe("memory guard in a capped container: refuses under pressure, recovers after it", () => {
  let server: ServerContainer | undefined;
  let refused: Probe | undefined;
  let refusedHealth: Awaited<ReturnType<typeof memoryHealth>> | undefined;
  let holders = 0;
  let recoveredAfterMs: number | null = null;
  const after: Probe[] = [];

  beforeAll(async () => {
    server = await startServerContainer({
      name: "memory-guard-recovery",
      memoryMb: MEMORY_MB,
      env: { MEMORY_CLEAR_PCT: String(REJECT_PCT - 5), MEMORY_REJECT_PCT: String(REJECT_PCT), MEMORY_CHECK_MS: "100", BODY_LIMIT_BYTES: String(32 << 20) },
    });
    const pressure = uploadPressure(server.url, HELD_MIB << 20, 32 << 20);
    try {
      for (let i = 0; i < MAX_HOLDERS && !refused; i++) {
        const held = await pressure.add();
        const p = await probe(server.url, i);
        const h = await memoryHealth(server.url);
        console.log(`[memory-guard] ${pressure.holders} upload(s) of ${HELD_MIB} MiB held (${held}): memory ${h.usagePct}% of the cap; a new request: ${p.status}`);
        if (p.status === 503) {
          refused = p;
          refusedHealth = h;
        }
      }
      holders = pressure.holders;
    } finally {
      pressure.release();
    }
    const released = performance.now();
    for (let i = 0; performance.now() - released < RECOVER_WITHIN_MS; i++) {
      const p = await probe(server.url, 1000 + i);
      if (p.status === 200) {
        recoveredAfterMs = performance.now() - released;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    for (let i = 0; i < 10; i++) after.push(await probe(server.url, 2000 + i));
    console.log(
      `[memory-guard] refused with ${refused?.status} ${refused?.code} (Retry-After ${refused?.retryAfter}) at ${refusedHealth?.usagePct}% with ${holders} upload(s) held; ` +
        `served again ${recoveredAfterMs === null ? "never" : `${Math.round(recoveredAfterMs)} ms`} after they were released; then ${after.map((p) => p.status).join(" ")}`,
    );
  }, 180_000);

  afterAll(async () => {
    await removeContainer(server?.id);
  });

  test("refuses new chat requests with 503 memory_pressure and a Retry-After while memory is high", () => {
    expect(refused, `no refusal with ${holders} uploads of ${HELD_MIB} MiB held`).toBeDefined();
    expect(refused!.code).toBe("memory_pressure");
    expect(Number(refused!.retryAfter)).toBeGreaterThan(0);
    expect(refusedHealth!.status).toBe("degraded");
    expect(refusedHealth!.reasons.some((r) => /memory/i.test(r))).toBe(true);
  });

  test(`serves again within ${RECOVER_WITHIN_MS / 1000} s once the pressure is gone, request after request`, () => {
    expect(recoveredAfterMs, "still refusing after the held uploads were released").not.toBeNull();
    expect(after.map((p) => p.status)).toEqual(after.map(() => 200));
  });

  test("is never OOM-killed, and its memory guard has left the critical state", async () => {
    const state = await containerState(server!.id);
    expect(state.oomKilled, await containerLogs(server!.id)).toBe(false);
    expect(state.running).toBe(true);
    const h = await memoryHealth(server!.url);
    console.log(`[memory-guard] afterwards: memory ${h.usagePct}% of the cap, guard ${h.state}, /health ${h.status}`);
    expect(h.state).not.toBe("critical");
    // Below the refusal line. Not below the re-arm line (REJECT_PCT - 2): once out of the critical state, usage
    // may drift back up within the hysteresis band without refusing again (seen: 68.0% after recovering).
    expect(h.usagePct, `memory ${h.usagePct}% of the cap, guard ${h.state}`).toBeLessThan(REJECT_PCT);
  });
});
