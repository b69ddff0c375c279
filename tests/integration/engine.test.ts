/** The llama engine's routing, prefix reuse counters and tokenization, on the real tiny model. */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSlotSet, generationPathWarnings } from "../../src/engine/llama-engine-slots.js";
import type { ChatMessage, Engine, SamplingParams } from "../../src/engine/types.js";
import { startTinyEngine, tinyModelPath } from "../helpers/tiny-server.js";

let engine: Engine;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2, contextSize: 512 });
});
afterAll(async () => {
  await engine?.close();
});

const params: SamplingParams = { maxTokens: 8, temperature: 0, topP: 1, stop: [] };
const convo = (system: string, ...users: string[]): ChatMessage[] => [
  { role: "system", content: system },
  ...users.map((content): ChatMessage => ({ role: "user", content })),
];
const stats = () => engine.stats!();

describe("llama engine routing", () => {
  test("sends a request to the slot its session used last, even when another slot holds a longer prefix", async () => {
    await engine.generate({ messages: convo("session system prompt", "hello"), params, slot: 1, sessionId: "session-a" });
    await engine.generate({ messages: convo("other system prompt", "hello"), params, slot: 0 });
    const before = stats().sessionRoutes;
    expect(engine.chooseSlot!([0, 1], convo("other system prompt", "hello again"), "session-a")).toBe(1);
    expect(stats().sessionRoutes).toBe(before + 1);
  });

  test("sends a request without a session to the slot whose KV cache holds the longest prefix", async () => {
    await engine.generate({ messages: convo("You answer about cats.", "first"), params, slot: 0 });
    await engine.generate({ messages: convo("You answer about dogs.", "first"), params, slot: 1 });
    expect(engine.chooseSlot!([0, 1], convo("You answer about cats.", "second"))).toBe(0);
    expect(engine.chooseSlot!([0, 1], convo("You answer about dogs.", "second"))).toBe(1);
    expect(engine.chooseSlot!([1, 0], convo("You answer about cats.", "third"))).toBe(0);
  });

  test("does not give a slot away for a few shared template tokens: the least recently used slot gets the request", async () => {
    await engine.clearPromptState!();
    await engine.generate({ messages: convo("A conversation worth keeping on slot zero.", "first turn"), params, slot: 0 });
    // Slot 1 is empty and the least recently used; slot 0 shares only the template's first tokens with this prompt.
    const before = stats().prefixRoutes;
    expect(engine.chooseSlot!([0, 1], convo("Unrelated system prompt, nothing in common.", "hello"))).toBe(1);
    expect(stats().prefixRoutes).toBe(before);
  });

  test("falls back to the prefix when the session's slot is busy", async () => {
    await engine.generate({ messages: convo("You answer about fish.", "q"), params, slot: 0, sessionId: "session-b" });
    await engine.generate({ messages: convo("You answer about birds.", "q"), params, slot: 1 });
    expect(engine.chooseSlot!([1], convo("You answer about fish.", "q2"), "session-b")).toBe(1);
  });
});

describe("llama engine prefix reuse counters", () => {
  test("count every prompt token once, as reused or evaluated, matching the results' cachedTokens", async () => {
    const before = stats();
    const a = await engine.generate({ messages: convo("A shared system prompt about the weather.", "one"), params, slot: 0 });
    const b = await engine.generate({ messages: convo("A shared system prompt about the weather.", "two"), params, slot: 0 });
    const after = stats();
    expect(b.cachedTokens).toBeGreaterThan(8);
    expect(after.promptTokensReused - before.promptTokensReused).toBe(a.cachedTokens + b.cachedTokens);
    expect(after.promptTokensEvaluated - before.promptTokensEvaluated).toBe(a.promptTokens - a.cachedTokens + (b.promptTokens - b.cachedTokens));
    expect(after.completionTokens - before.completionTokens).toBe(a.completionTokens + b.completionTokens);
    expect(after.generations - before.generations).toBe(2);
  });

  test("forgets every cached prefix when asked to clear the prompt state", async () => {
    const messages = convo("Clear me.", "x");
    await engine.generate({ messages, params, slot: 0 });
    await engine.clearPromptState!();
    const again = await engine.generate({ messages: convo("Clear me.", "y"), params, slot: 0 });
    expect(again.cachedTokens).toBe(0);
  });
});

describe("llama engine tokenization", () => {
  test("tokenizes one request once, however many times slot choice, counting and generation ask", async () => {
    const messages = convo("Tokenize me once.", `unique ${Math.random()}`);
    // What a request waiting for a slot does (prepare); generation then finds the tokens ready.
    const before = stats();
    engine.prepare!(messages);
    const first = stats();
    expect(first.tokenizerCacheMisses).toBeGreaterThan(before.tokenizerCacheMisses);
    await engine.countPromptTokens(messages);
    engine.chooseSlot!([0, 1], messages);
    await engine.countPromptTokens(messages);
    await engine.generate({ messages, params, slot: 0 });
    const after = stats();
    expect(after.tokenizerCacheHits).toBe(first.tokenizerCacheHits);
    expect(after.tokenizerCacheMisses).toBe(first.tokenizerCacheMisses);
  });

  test("takes the tokens of a repeated system prompt and the template's pieces from the cache", async () => {
    await engine.countPromptTokens(convo("A long repeated system prompt. ".repeat(4), "first user text"));
    const before = stats();
    const n = await engine.countPromptTokens(convo("A long repeated system prompt. ".repeat(4), "second user text"));
    const after = stats();
    expect(n).toBeGreaterThan(20);
    expect(after.tokenizerCacheHits - before.tokenizerCacheHits).toBeGreaterThanOrEqual(2);
    expect(after.tokenizerCacheMisses - before.tokenizerCacheMisses).toBe(1);
  });
});

describe("llama engine shutdown", () => {
  test("closing mid-generation stops the generation within a token instead of freeing a context under it", async () => {
    const e = await startTinyEngine({ slots: 1, contextSize: 2048 });
    let chunks = 0;
    let closing: Promise<void> | null = null;
    const gen = e.generate({ messages: convo("long", "go on"), params: { ...params, maxTokens: 1500 }, slot: 0 }, () => {
      if (++chunks === 3) closing = e.close();
    });
    const r = await gen;
    await closing;
    expect(r.aborted).toBe(true);
    expect(r.completionTokens).toBeLessThan(1500);
    await expect(e.generate({ messages: convo("x", "y"), params, slot: 0 })).rejects.toThrow(/closed/);
  });
});

describe("native path fallback", () => {
  let llama: Llama;
  let model: LlamaModel;
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: await tinyModelPath(), gpuLayers: 0 });
  });
  afterAll(async () => {
    await model?.dispose();
  });

  const threadsFor = () => ({ acquire: () => ({ threads: 1, done: () => undefined }) });
  const options = (layout: "contexts" | "batched") => ({ slots: 1, contextSize: 256, threads: 1, layout, path: "native" as const, threadsFor });

  test("with node-llama-cpp's internals in place, the native path runs and says nothing", async () => {
    const set = await createSlotSet(llama, model, options("contexts"));
    try {
      expect(set.path).toBe("native");
      expect(set.note).toBeUndefined();
    } finally {
      for (const c of set.contexts) await c.dispose();
    }
  });

  test.each([
    ["the llama's _bindings", (l: Llama, m: LlamaModel) => [Object.create(l, { _bindings: { value: undefined } }) as Llama, m] as const, "_bindings"],
    ["the model's _model", (l: Llama, m: LlamaModel) => [l, Object.create(m, { _model: { value: undefined } }) as LlamaModel] as const, "_model"],
  ])("without %s, every slot falls back to sequence.evaluate() and the note names what is missing", async (_what, hide, field) => {
    for (const layout of ["contexts", "batched"] as const) {
      const [l, m] = hide(llama, model);
      const set = await createSlotSet(l, m, { ...options(layout), createContext: (o) => model.createContext(o) });
      try {
        expect(set.path).toBe("evaluate");
        expect(set.layout).toBe("contexts");
        expect(set.slots.every((s) => s.path === "evaluate")).toBe(true);
        expect(set.note).toContain(field);
        expect(set.note).toMatch(/sequence\.evaluate\(\)/);
      } finally {
        for (const c of set.contexts) await c.dispose();
      }
    }
  });

  test("a context without _ctx falls back too, and the fallback slot still generates", async () => {
    const real: Array<Awaited<ReturnType<LlamaModel["createContext"]>>> = [];
    const set = await createSlotSet(llama, model, {
      ...options("contexts"),
      createContext: async (o) => {
        const c = await model.createContext(o);
        real.push(c);
        // The public API stays whole (the evaluate slot uses it); only the private _ctx is gone.
        return new Proxy(c, {
          get: (t, k) => {
            if (k === "_ctx") return undefined;
            const v: unknown = Reflect.get(t, k, t);
            return typeof v === "function" ? v.bind(t) : v;
          },
        });
      },
    });
    try {
      expect(set.path).toBe("evaluate");
      expect(set.note).toContain("_ctx");
      const tokens = model.tokenize("hello");
      const out: number[] = [];
      await set.slots[0]!.run(tokens, { temperature: 0, topK: 40, topP: 0.95, seed: 0 }, undefined, {
        maxTokens: 4,
        step: () => (out.length >= 3 ? "last" : "more"),
        emit: (t) => (out.push(t), true),
      });
      expect(out.length).toBe(4);
    } finally {
      for (const c of real) await c.dispose();
    }
  });

  test("the start-up warnings say why the native path fell back, and nothing when it did not", () => {
    const base = { modelId: "m", fingerprint: "", fileSizeBytes: 0, contextSize: 256, slots: 1, threads: 1, gpu: false as const, build: "prebuilt", layout: "contexts" };
    expect(generationPathWarnings({ ...base, generationPath: "native" })).toEqual([]);
    const [line, ...rest] = generationPathWarnings({ ...base, generationPath: "evaluate", generationPathNote: "needs LlamaContext._ctx: using sequence.evaluate()" });
    expect(rest).toEqual([]);
    expect(line).toContain("needs LlamaContext._ctx: using sequence.evaluate()");
  });
});
