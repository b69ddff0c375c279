/**
 * The engine's native fast path against the plain path (LlamaCompletion on the same tokens, a fresh
 * KV cache per request): same tokens, same text, same finish reasons, on the real tiny model.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ContextOverflowError } from "../../src/errors.js";
import { embeddedModelId } from "../../src/engine/embedded-model.js";
import { createLlamaEngine } from "../../src/engine/llama-engine.js";
import { createPlainEngine } from "../../src/engine/plain-engine.js";
import type { ChatMessage, Engine, GenerateResult, SamplingParams } from "../../src/engine/types.js";
import { tinyModelPath } from "../helpers/tiny-server.js";

const CONTEXT = 256;
let plain: Engine;

beforeAll(async () => {
  plain = await createPlainEngine({ modelPath: await tinyModelPath(), contextSize: CONTEXT, mode: "completion" });
});
afterAll(async () => {
  await plain?.close();
});

const user = (content: string): ChatMessage[] => [{ role: "user", content }];
const params = (p: Partial<SamplingParams> = {}): SamplingParams => ({ maxTokens: 24, temperature: 0, topP: 1, stop: [], ...p });

async function run(engine: Engine, messages: ChatMessage[], p: SamplingParams, signal?: AbortSignal): Promise<GenerateResult & { chunks: string[] }> {
  const chunks: string[] = [];
  const r = await engine.generate({ messages, params: p, slot: 0, signal }, (c) => chunks.push(c.text));
  return { ...r, chunks };
}

describe.each(["contexts", "batched"] as const)("native fast path (%s layout) vs LlamaCompletion", (layout) => {
  let fast: Engine;
  beforeAll(async () => {
    fast = await createLlamaEngine({ modelPath: await tinyModelPath(), modelId: embeddedModelId("tiny"), slots: 1, threads: 1, contextSize: CONTEXT, gpu: false, layout });
  });
  afterAll(async () => {
    await fast?.close();
  });

  test("the fast path really is the native one, in the asked layout", () => {
    expect(fast.info().generationPath).toBe("native");
    expect(fast.info().layout).toBe(layout);
  });

  test.each([["Hello there, how are you?"], ["Parlez-vous français? é à ü ñ"], ["emoji 👋🎉 in the prompt"], ["CJK 世界你好 and mixed ö😀字"]])(
    "gives the same tokens and text at temperature 0 for %j",
    async (prompt) => {
      const a = await run(fast, user(prompt), params());
      const b = await run(plain, user(prompt), params());
      expect(a.text).toBe(b.text);
      expect(a.text.length).toBeGreaterThan(0);
      expect(a.completionTokens).toBe(b.completionTokens);
      expect(a.promptTokens).toBe(b.promptTokens);
      expect(a.finishReason).toBe(b.finishReason);
      expect(a.chunks.join("")).toBe(a.text);
      for (const c of a.chunks) expect(c).not.toContain("\uFFFD");
    },
  );

  test("repeats LlamaCompletion's sampling exactly with the same seed at temperature 0.8", async () => {
    const p = (seed: number) => params({ temperature: 0.8, topP: 0.9, seed, maxTokens: 32 });
    const a1 = await run(fast, user("seeded sampling"), p(1));
    const b1 = await run(plain, user("seeded sampling"), p(1));
    const a2 = await run(fast, user("seeded sampling"), p(2));
    expect(a1.text).toBe(b1.text);
    expect(a2.text).not.toBe(a1.text);
    expect((await run(fast, user("seeded sampling"), p(1))).text).toBe(a1.text);
  });

  test("stops before a stop string exactly where LlamaCompletion stops", async () => {
    const full = await run(fast, user("a stop string test"), params({ maxTokens: 48 }));
    const stop = full.text.slice(12, 15);
    const expected = full.text.slice(0, full.text.indexOf(stop));
    const a = await run(fast, user("a stop string test"), params({ maxTokens: 48, stop: [stop] }));
    const b = await run(plain, user("a stop string test"), params({ maxTokens: 48, stop: [stop] }));
    expect(a.text).toBe(expected);
    expect(a.finishReason).toBe("stop");
    expect(b.text).toBe(expected);
    expect(b.finishReason).toBe("stop");
  });

  test("reports length when a stop string never appears", async () => {
    const a = await run(fast, user("no stop here"), params({ stop: ["\u0007never"] }));
    expect(a.finishReason).toBe("length");
    expect(a.completionTokens).toBe(24);
  });

  test("an aborted generation leaves the slot reusable and the next answers are right", async () => {
    const ac = new AbortController();
    let seen = 0;
    const r = await fast.generate({ messages: user("abort me midway"), params: params({ maxTokens: 200 }), slot: 0, signal: ac.signal }, () => {
      if (++seen === 3) ac.abort();
    });
    expect(r.aborted).toBe(true);
    expect(r.completionTokens).toBeLessThan(200);
    const next = await run(fast, user("after the abort"), params());
    expect(next.text).toBe((await run(plain, user("after the abort"), params())).text);
    const again = await run(fast, user("abort me midway"), params());
    expect(again.text).toBe((await run(plain, user("abort me midway"), params())).text);
  });

  test("an answer that reuses a cached prefix equals the same request on a fresh engine", async () => {
    const system: ChatMessage = { role: "system", content: "You are a terse assistant that answers about the weather." };
    await run(fast, [system, { role: "user", content: "first question" }], params());
    const turn2: ChatMessage[] = [system, { role: "user", content: "second question" }];
    const a = await run(fast, turn2, params());
    expect(a.cachedTokens).toBeGreaterThan(10);
    expect(a.text).toBe((await run(plain, turn2, params())).text);

    const turn3: ChatMessage[] = [...turn2, { role: "assistant", content: a.text }, { role: "user", content: "and then?" }];
    const c = await run(fast, turn3, params());
    expect(c.cachedTokens).toBeGreaterThan(a.cachedTokens);
    expect(c.text).toBe((await run(plain, turn3, params())).text);
  });

  test("rejects a prompt longer than the context with ContextOverflowError instead of shifting", async () => {
    const long = user("word ".repeat(400));
    await expect(fast.generate({ messages: long, params: params(), slot: 0 })).rejects.toBeInstanceOf(ContextOverflowError);
    const after = await run(fast, user("still fine"), params());
    expect(after.text).toBe((await run(plain, user("still fine"), params())).text);
  });

  test("stops at the context's end with finish_reason length, never shifting", async () => {
    const messages = user("fill the context ".repeat(12));
    const promptTokens = await fast.countPromptTokens(messages);
    expect(promptTokens).toBeGreaterThan(100);
    const a = await run(fast, messages, params({ maxTokens: 1000 }));
    expect(a.finishReason).toBe("length");
    expect(a.completionTokens).toBe(CONTEXT - promptTokens);
    const b = await run(plain, messages, params({ maxTokens: 1000 }));
    expect(a.text).toBe(b.text);
  });
});

describe("batched layout with several slots", () => {
  let batched: Engine;
  beforeAll(async () => {
    batched = await createLlamaEngine({ modelPath: await tinyModelPath(), modelId: embeddedModelId("tiny"), slots: 3, threads: 1, contextSize: 1024, gpu: false, layout: "batched" });
  });
  afterAll(async () => {
    await batched?.close();
  });

  test("concurrent generations decoded together each equal the same request alone", async () => {
    const prompts = ["first of three", "second, a bit longer than the first one", "third é 世界"];
    const lengths = [12, 30, 20];
    const results = await Promise.all(
      prompts.map((p, i) => batched.generate({ messages: user(p), params: params({ maxTokens: lengths[i]! }), slot: i })),
    );
    for (const [i, p] of prompts.entries()) {
      const alone = await run(plain, user(p), params({ maxTokens: lengths[i]! }));
      expect(results[i]!.text).toBe(alone.text);
      expect(results[i]!.completionTokens).toBe(lengths[i]);
    }
  });

  test("a prompt longer than the batch joins while another slot generates, and both answers stay right", async () => {
    const long = user("a long prompt that spans more than one batch ".repeat(15));
    expect(await batched.countPromptTokens(long)).toBeGreaterThan(512);
    const plainLong = await createPlainEngine({ modelPath: await tinyModelPath(), contextSize: 1024, mode: "completion" });
    try {
      const [a, b] = await Promise.all([
        batched.generate({ messages: user("generating meanwhile"), params: params({ maxTokens: 40 }), slot: 0 }),
        batched.generate({ messages: long, params: params({ maxTokens: 10 }), slot: 1 }),
      ]);
      expect(a.text).toBe((await run(plainLong, user("generating meanwhile"), params({ maxTokens: 40 }))).text);
      expect(b.text).toBe((await run(plainLong, long, params({ maxTokens: 10 }))).text);
    } finally {
      await plainLong.close();
    }
  });

  test("an abort on one slot leaves the others' generations right", async () => {
    const ac = new AbortController();
    let seen = 0;
    const [aborted, other] = await Promise.all([
      batched.generate({ messages: user("abort this one"), params: params({ maxTokens: 200 }), slot: 0, signal: ac.signal }, () => {
        if (++seen === 3) ac.abort();
      }),
      batched.generate({ messages: user("keep this one"), params: params({ maxTokens: 30 }), slot: 1 }),
    ]);
    expect(aborted.aborted).toBe(true);
    expect(other.text).toBe((await run(plain, user("keep this one"), params({ maxTokens: 30 }))).text);
    const again = await run(batched, user("after the abort"), params());
    expect(again.text).toBe((await run(plain, user("after the abort"), params())).text);
  });
});
