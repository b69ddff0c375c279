/**
 * Issue 7 (chaos) found: the request timeout (--timeout-ms) only works when the engine honours its
 * abort signal. src/server/inference.ts awaits engine.generate() and only then turns an aborted
 * result into 504, so an engine stuck in a call that cannot be interrupted (a native decode that
 * never returns, a deadlock) keeps the client waiting for as long as the engine is stuck: no 504 at
 * --timeout-ms. `gauntlet chaos` showed it as engine-stuck (504 after timeout + 4 s, not at the
 * timeout). Fixed in src/server/inference.ts: the generation is raced against the request's signal, the
 * client gets its 504 at the deadline, and the slot is released only when the engine has really returned
 * (the slot cannot be reused while the engine still runs on it).
 */
import { afterEach, describe, expect, test } from "vitest";
import type { FastifyInstance } from "fastify";
import { withChaos } from "../../src/engine/chaos-engine.js";
import type { Engine, GenerateResult } from "../../src/engine/types.js";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import { buildServer } from "../../src/server/app.js";

let app: FastifyInstance | null = null;
let release: (() => void) | null = null;

afterEach(async () => {
  release?.();
  release = null;
  await app?.close();
  app = null;
});

async function serverOn(engine: Engine): Promise<FastifyInstance> {
  app = await buildServer({
    settings: { apiKey: null, slots: 1, queueMax: 4, timeoutMs: 200, shutdownTimeoutMs: 1000, bodyLimitBytes: 1 << 20, maxTokensLimit: 64 },
    engine,
    ownsEngine: false,
  });
  return app;
}

const ask = (a: FastifyInstance) => a.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: [{ role: "user", content: "hi" }], max_tokens: 4, temperature: 0 } });

/** The status, or a string saying there was none within the bound (a liveness bound, 25x the timeout). */
const statusWithin = (a: FastifyInstance) =>
  Promise.race([ask(a).then((r) => r.statusCode), new Promise<string>((r) => setTimeout(() => r("no answer within 5 s (timeout 200 ms)"), 5000).unref())]);

describe("issue 7: the request timeout and a hung engine", () => {
  test("control: an engine that hangs but honours cancellation gets 504, and the slot is free again", async () => {
    const a = await serverOn(withChaos(standInEngine(), { mode: "all", fault: { kind: "hang" } }));
    expect(await statusWithin(a)).toBe(504);
    const health = (await a.inject({ method: "GET", url: "/health" })).json() as { metrics: { requestsInFlight: number } };
    expect(health.metrics.requestsInFlight).toBe(0);
  });

  test("an engine stuck in a call that ignores its signal still gets the client a 504 at the timeout", async () => {
    const stuck: Engine = {
      ...standInEngine(),
      generate: () =>
        new Promise<GenerateResult>((resolve) => {
          release = () => resolve({ text: "", finishReason: "length", promptTokens: 1, completionTokens: 0, cachedTokens: 0, aborted: true });
        }),
    };
    const a = await serverOn(stuck);
    expect(await statusWithin(a)).toBe(504);
  }, 30_000);

  test("the slot stays held while the stuck engine has not returned, and is free again once it does", async () => {
    // Only the first generation sticks; later ones are the stand-in's normal answers.
    const normal = standInEngine();
    let calls = 0;
    const stuck: Engine = {
      ...normal,
      // The server sizes its slot pool from the engine: one slot, so a held slot blocks everyone.
      info: () => ({ ...normal.info(), slots: 1 }),
      generate: (req, onChunk) => {
        if (++calls > 1) return normal.generate(req, onChunk);
        return new Promise<GenerateResult>((resolve) => {
          release = () => resolve({ text: "", finishReason: "length", promptTokens: 1, completionTokens: 0, cachedTokens: 0, aborted: true });
        });
      },
    };
    const a = await serverOn(stuck);
    const inFlight = async () => ((await a.inject({ method: "GET", url: "/health" })).json() as { metrics: { requestsInFlight: number } }).metrics.requestsInFlight;
    // slots = 1: the stuck request gets its 504 at the deadline...
    expect(await statusWithin(a)).toBe(504);
    // ...but the engine still runs on the only slot: the next request waits in the queue and times out too.
    expect(await statusWithin(a)).toBe(504);
    expect(calls).toBe(1);
    // The engine returns: the slot is free, and the next request is served.
    release?.();
    release = null;
    expect(await statusWithin(a)).toBe(200);
    expect(calls).toBe(2);
    expect(await inFlight()).toBe(0);
  }, 30_000);
});
