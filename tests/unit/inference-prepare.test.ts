/**
 * A request that has to wait for a slot gets its prompt ready meanwhile (engine.prepare: the prompt's tokens),
 * so the slot starts generating for it at once when it is free. One that gets a slot at once, or is refused
 * because the queue is full, costs no extra work.
 */
import { describe, expect, test } from "vitest";
import { createSlotPool } from "../../src/engine/slot-pool.js";
import type { ChatMessage, Engine } from "../../src/engine/types.js";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import { createInferenceService } from "../../src/server/inference.js";

const params = { maxTokens: 4, temperature: 0, topP: 1, seed: undefined, stop: [] };
const msgs = (content: string): ChatMessage[] => [{ role: "user", content }];

function engineWithPrepare(): { engine: Engine; prepared: string[]; release: () => void } {
  const inner = standInEngine();
  const prepared: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let first = true;
  const engine: Engine = {
    ...inner,
    info: () => inner.info(),
    countPromptTokens: (m) => inner.countPromptTokens(m),
    close: () => inner.close(),
    prepare: (m) => void prepared.push(m[0]!.content),
    async generate(req, onChunk) {
      // The first generation holds the only slot until released.
      if (first) {
        first = false;
        await gate;
      }
      return inner.generate(req, onChunk);
    },
  };
  return { engine, prepared, release };
}

describe("inference: a queued request's prompt is prepared while it waits", () => {
  test("prepared when it waits for a slot; not when it gets one at once; not when refused", async () => {
    const { engine, prepared, release } = engineWithPrepare();
    const service = createInferenceService({ engine, pool: createSlotPool({ slots: 1, queueMax: 1 }), timeoutMs: 5000 });
    const run = (content: string) => service.run({ messages: msgs(content), params, signal: new AbortController().signal });
    const holder = run("holds the slot");
    await new Promise((r) => setImmediate(r));
    const waiter = run("waits");
    const refused = run("refused").catch((e: Error) => e);
    expect(((await refused) as { code?: string }).code).toBe("queue_full");
    release();
    await Promise.all([holder, waiter]);
    await run("gets a free slot");
    expect(prepared).toEqual(["waits"]);
  });

  test("a prepare that throws does not fail the request (generation reports the problem itself)", async () => {
    const { engine, release } = engineWithPrepare();
    engine.prepare = () => {
      throw new Error("tokenizer exploded");
    };
    const service = createInferenceService({ engine, pool: createSlotPool({ slots: 1, queueMax: 1 }), timeoutMs: 5000 });
    const run = (content: string) => service.run({ messages: msgs(content), params, signal: new AbortController().signal });
    const holder = run("holds");
    await new Promise((r) => setImmediate(r));
    const waiter = run("waits");
    release();
    await expect(Promise.all([holder, waiter])).resolves.toHaveLength(2);
  });
});
