/**
 * Issue 7 (the container soak) found a leak of about 140 bytes per request: every request combined its own
 * signal with the server's shutdown signal (and the engine's close signal) through AbortSignal.any(), and on
 * Node 20 each call leaves a reference on the long-lived input that is never removed (nodejs/node#55351).
 * A heap-snapshot diff over 12k requests showed +24,018 WeakRefs. Requests now link their signals with
 * listeners they remove when they end: after any number of requests the long-lived signal holds nothing.
 */
import { getEventListeners } from "node:events";
import { describe, expect, test } from "vitest";
import { createSlotPool } from "../../src/engine/slot-pool.js";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import { createInferenceService } from "../../src/server/inference.js";

/** What Node keeps on a signal for AbortSignal.any() dependants (an internal symbol), or 0. */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((k) => k.description === "kDependantSignals");
  const set = key ? ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[key]) : undefined;
  return set?.size ?? 0;
}

describe("issue 7: a long-lived signal collects nothing per request", () => {
  test("1000 requests through the inference service leave no listener and no dependant on the shutdown signal", async () => {
    const shutdown = new AbortController();
    const service = createInferenceService({ engine: standInEngine(), pool: createSlotPool({ slots: 2, queueMax: 4 }), timeoutMs: 5000, shutdownSignal: shutdown.signal });
    for (let i = 0; i < 1000; i++) {
      const client = new AbortController();
      await service.run({ messages: [{ role: "user", content: `r${i}` }], params: { maxTokens: 4, temperature: 0, topP: 1, seed: undefined, stop: [] }, signal: client.signal });
    }
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
    expect(dependants(shutdown.signal)).toBe(0);
  });
});
