/**
 * POST /cache/warm keeps a system prompt's evaluated state for good: it is saved once, and restored
 * into whichever slot a later request with that system prompt lands on, even after other prompts
 * have thrown it out of every slot's KV cache. GET /cache says where it is resident right now.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createLlamaEngine } from "../../src/engine/llama-engine.js";
import type { ChatMessage } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, tinyModelPath, type TestServer } from "../helpers/tiny-server.js";

const SYSTEM = "You are the persistence test's assistant. Answer in a few words and never mention the weather or the sea.";
const OTHER = "An entirely different system prompt, long enough to throw the warmed one out of the slot.";

let s: TestServer | null = null;
afterEach(async () => {
  await s?.app.close();
  s = null;
});

async function chat(messages: ChatMessage[], maxTokens = 8): Promise<{ text: string; promptTokens: number; cachedTokens: number }> {
  const res = await s!.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages, max_tokens: maxTokens, temperature: 0 } });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  return { text: body.choices[0].message.content, promptTokens: body.usage.prompt_tokens, cachedTokens: body.usage.prompt_tokens_details.cached_tokens };
}
const cache = async () => (await s!.app.inject({ method: "GET", url: "/cache" })).json();

describe("warmed system prompt persistence", () => {
  test.each([1, 2])("with %i slot(s), a warmed prompt is reused after other system prompts used every slot", async (slots) => {
    s = await startTestServer({ slots, cache: { enabled: false } });
    const warm = (await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } })).json();
    expect(warm.tokens).toBeGreaterThan(20);
    expect(warm.persisted).toBe(true);
    expect(warm.residentSlots).toHaveLength(1);

    // Other system prompts on every slot: the warmed state is no longer in any KV cache.
    for (let i = 0; i < slots; i++) await Promise.all(Array.from({ length: slots }, (_, k) => chat([{ role: "system", content: `${OTHER} ${i}-${k}` }, { role: "user", content: "hi" }])));
    const evicted = await cache();
    expect(evicted).toMatchObject({ tokens: warm.tokens, persisted: true, residentSlots: [] });

    const use = await chat([{ role: "system", content: SYSTEM }, { role: "user", content: "hello" }]);
    expect(use.cachedTokens).toBeGreaterThanOrEqual(warm.tokens);
    expect((await cache()).residentSlots).toHaveLength(1);
  });

  test("an answer built on the restored state equals the answer of a cold engine", async () => {
    s = await startTestServer({ slots: 1, cache: { enabled: false } });
    const messages: ChatMessage[] = [{ role: "system", content: SYSTEM }, { role: "user", content: "what is the answer?" }];
    const cold = await startTinyEngine({ slots: 1 });
    const expected = (await cold.generate({ messages, params: { maxTokens: 24, temperature: 0, topP: 1, stop: [] }, slot: 0 })).text;
    await cold.close();

    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    await chat([{ role: "system", content: OTHER }, { role: "user", content: "hi" }]);
    const use = await chat(messages, 24);
    expect(use.cachedTokens).toBeGreaterThan(20);
    expect(use.text).toBe(expected);
  });

  test("DELETE /cache forgets the saved state: nothing is restored afterwards", async () => {
    s = await startTestServer({ slots: 1, cache: { enabled: false } });
    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    await s.app.inject({ method: "DELETE", url: "/cache" });
    expect(await cache()).toMatchObject({ tokens: 0, persisted: false, residentSlots: [] });
    await chat([{ role: "system", content: OTHER }, { role: "user", content: "hi" }]);
    const use = await chat([{ role: "system", content: SYSTEM }, { role: "user", content: "hello" }]);
    expect(use.cachedTokens).toBeLessThan(10);
  });

  test("warming a second prompt replaces the first", async () => {
    s = await startTestServer({ slots: 1, cache: { enabled: false } });
    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    const second = (await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: OTHER } })).json();
    await chat([{ role: "system", content: "a third prompt, neither of the two" }, { role: "user", content: "hi" }]);
    const first = await chat([{ role: "system", content: SYSTEM }, { role: "user", content: "hello" }]);
    expect(first.cachedTokens).toBeLessThan(10);
    const use = await chat([{ role: "system", content: OTHER }, { role: "user", content: "hello" }]);
    expect(use.cachedTokens).toBeGreaterThanOrEqual(second.tokens);
  });
});

describe("warmed state restore in the batched layout", () => {
  test("restoring into one sequence while another slot generates leaves both answers right", async () => {
    const engine = await createLlamaEngine({ modelPath: await tinyModelPath(), modelId: "tiny", slots: 2, threads: 1, contextSize: 1024, gpu: false, layout: "batched" });
    const cold = await startTinyEngine({ slots: 1 });
    try {
      const params = { maxTokens: 24, temperature: 0, topP: 1, stop: [] };
      const warmed: ChatMessage[] = [{ role: "system", content: SYSTEM }, { role: "user", content: "restored" }];
      const other: ChatMessage[] = [{ role: "user", content: "generating meanwhile on the other slot" }];
      const n = await engine.warmSystemPrompt!(SYSTEM, 0);
      await engine.generate({ messages: [{ role: "system", content: OTHER }, { role: "user", content: "evict" }], params, slot: 0 });
      expect(engine.promptCacheState!()).toEqual({ tokens: n, residentSlots: [], persisted: true });
      const [a, b] = await Promise.all([engine.generate({ messages: other, params: { ...params, maxTokens: 60 }, slot: 1 }), engine.generate({ messages: warmed, params, slot: 0 })]);
      expect(b.cachedTokens).toBeGreaterThanOrEqual(n);
      expect(engine.stats!().warmRestores).toBe(1);
      expect(b.text).toBe((await cold.generate({ messages: warmed, params, slot: 0 })).text);
      expect(a.text).toBe((await cold.generate({ messages: other, params: { ...params, maxTokens: 60 }, slot: 0 })).text);
    } finally {
      await engine.close();
      await cold.close();
    }
  });
});
