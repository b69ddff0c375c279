/**
 * The engine's native fast path against the plain path (LlamaCompletion on the same tokens, a fresh
 * KV cache per request): same tokens, same text, same finish reasons, on the real tiny model.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ContextOverflowError } from "../../src/errors.js";
import { embeddedModelId, ensureEmbeddedModel } from "../../src/engine/embedded-model.js";
import { createLlamaEngine } from "../../src/engine/llama-engine.js";
import { createPlainEngine } from "../../src/engine/plain-engine.js";
import type { ChatMessage, Engine, GenerateResult, SamplingParams } from "../../src/engine/types.js";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, TEST_MODEL_DIR, tinyModelPath } from "../helpers/tiny-server.js";

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

/** The server's default (native, a context per slot), the batched layout, and the public sequence.evaluate() fallback. */
const PATHS = [
  { path: "native", layout: "contexts" },
  { path: "native", layout: "batched" },
  { path: "evaluate", layout: "contexts" },
] as const;

describe.each(PATHS)("$path path ($layout layout) vs LlamaCompletion", ({ path, layout }) => {
  let fast: Engine;
  beforeAll(async () => {
    fast = await createLlamaEngine({ modelPath: await tinyModelPath(), modelId: embeddedModelId("tiny"), slots: 1, threads: 1, contextSize: CONTEXT, gpu: false, layout, generationPath: path });
  });
  afterAll(async () => {
    await fast?.close();
  });

  test("the engine really runs the asked generation path, in the asked layout", () => {
    expect(fast.info().generationPath).toBe(path);
    expect(fast.info().layout).toBe(layout);
  });

  test.each([["Hello there, how are you?"], ["Parlez-vous français? é à ü ñ"], ["emoji 👋🎉 in the prompt"], ["CJK 世界你好 and mixed ö😀字"]])(
    "gives the same tokens and text at temperature 0 for %j",
    async (prompt) => {
      const a = await run(fast, user(prompt), params());
      const b = await run(plain, user(prompt), params());
      expect(a.text).toBe(b.text);
      expect(a.text.length).toBeGreaterThan(0);
      expect(a.tokens).toEqual(b.tokens);
      expect(a.tokens).toHaveLength(24);
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
    expect(a1.tokens).toEqual(b1.tokens);
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

/**
 * The multi-byte variant of the embedded model writes é-like, CJK and emoji characters split across
 * tokens (a lead token, then a continuation byte), so a decoder that split UTF-8 inside a character
 * would show here; with allowEos it also stops by itself.
 */
describe("multi-byte UTF-8 output: every path equals LlamaCompletion token for token", () => {
  const MB_CONTEXT = 512;
  const prompts = ["Hello there", "é à ü", "emoji 👋🎉", "CJK 世界你好", "weather?", "x y z"];
  let utf8Path = "";
  let eosPath = "";
  let plainUtf8: Engine;
  let plainEos: Engine;
  let llama: Llama;
  let model: LlamaModel;
  const engines = new Map<string, Engine>();

  beforeAll(async () => {
    utf8Path = (await ensureEmbeddedModel(TEST_MODEL_DIR, "tiny", { multiByte: true })).path;
    eosPath = (await ensureEmbeddedModel(TEST_MODEL_DIR, "tiny", { multiByte: true, allowEos: true })).path;
    plainUtf8 = await createPlainEngine({ modelPath: utf8Path, contextSize: MB_CONTEXT, mode: "completion" });
    plainEos = await createPlainEngine({ modelPath: eosPath, contextSize: MB_CONTEXT, mode: "completion" });
    llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: utf8Path, gpuLayers: 0 });
    for (const p of PATHS) {
      for (const [variant, modelPath] of [["utf8", utf8Path], ["eos", eosPath]] as const) {
        engines.set(`${variant} ${p.path} ${p.layout}`, await createLlamaEngine({ modelPath, modelId: "utf8", slots: 1, threads: 1, contextSize: MB_CONTEXT, gpu: false, layout: p.layout, generationPath: p.path }));
      }
    }
  }, 180_000);
  afterAll(async () => {
    for (const e of engines.values()) await e.close();
    await plainUtf8?.close();
    await plainEos?.close();
    await model?.dispose();
  });

  const detokenize = (tokens: readonly number[]) => model.detokenize(tokens as Token[]);
  const mb = (p: (typeof PATHS)[number], variant: "utf8" | "eos" = "utf8") => engines.get(`${variant} ${p.path} ${p.layout}`)!;
  /**
   * LlamaCompletion's answer for `maxTokens`, taken from a longer run: LlamaCompletion itself drops
   * the last few tokens' text at its maxTokens when they follow a multi-byte character, so the
   * reference is the first `maxTokens` tokens of a generation 8 tokens longer (greedy and seeded
   * sampling do not depend on the budget), detokenized at once, less an incomplete last character.
   */
  async function reference(plain: Engine, messages: ChatMessage[], p: SamplingParams) {
    const r = await run(plain, messages, { ...p, maxTokens: p.maxTokens + 8 });
    const natural = r.finishReason === "stop" && r.tokens!.length <= p.maxTokens;
    const tokens = r.tokens!.slice(0, p.maxTokens);
    return { tokens, text: detokenize(tokens).replace(/\uFFFD+$/, ""), finishReason: natural ? "stop" : "length" };
  }

  test("the variant really splits multi-byte characters across tokens (the checks below can fail)", async () => {
    let split = 0;
    let wide = 0;
    for (const prompt of prompts) {
      const r = await run(plainUtf8, user(prompt), params({ maxTokens: 40 }));
      split += r.tokens!.filter((t) => detokenize([t]).includes("\uFFFD")).length;
      wide += [...r.text].filter((ch) => ch.codePointAt(0)! > 0x7ff).length;
    }
    expect(split).toBeGreaterThan(5);
    expect(wide).toBeGreaterThan(2);
  });

  test.each(PATHS)("$path/$layout: same token ids and text, chunks joined equal the tokens detokenized at once", async (p) => {
    let cut = 0;
    for (const prompt of prompts) {
      const a = await run(mb(p), user(prompt), params({ maxTokens: 40 }));
      const b = await reference(plainUtf8, user(prompt), params({ maxTokens: 40 }));
      expect(a.tokens).toEqual(b.tokens);
      expect(a.tokens).toHaveLength(40);
      expect(a.text).toBe(b.text);
      expect(a.chunks.join("")).toBe(a.text);
      // All tokens at once give the same text; only a cut at max_tokens inside a character leaves an
      // incomplete last one, which is dropped rather than shown as U+FFFD.
      const whole = detokenize(a.tokens!);
      if (whole.endsWith("\uFFFD")) cut++;
      expect(a.text).toBe(whole.replace(/\uFFFD$/, ""));
      expect(a.text).not.toContain("\uFFFD");
      for (const c of a.chunks) expect(c).not.toContain("\uFFFD");
    }
    // At least one answer was cut inside a character (so the dropping above was really exercised).
    expect(cut).toBeGreaterThan(0);
  });

  test.each(PATHS)("$path/$layout: a multi-byte stop string stops both paths before it", async (p) => {
    const full = await run(plainUtf8, user("CJK 世界你好"), params({ maxTokens: 40 }));
    const chars = [...full.text];
    const at = chars.findIndex((ch, i) => i >= 3 && ch.codePointAt(0)! > 0x7f && ch !== "\uFFFD");
    expect(at).toBeGreaterThan(0);
    const stop = chars[at]!;
    const expected = full.text.slice(0, full.text.indexOf(stop));
    const a = await run(mb(p), user("CJK 世界你好"), params({ maxTokens: 40, stop: [stop] }));
    const b = await run(plainUtf8, user("CJK 世界你好"), params({ maxTokens: 40, stop: [stop] }));
    expect(a.text).toBe(expected);
    expect(a.chunks.join("")).toBe(expected);
    expect(a.finishReason).toBe("stop");
    expect(b.text).toBe(expected);
    expect(b.finishReason).toBe("stop");
  });

  test.each(PATHS)("$path/$layout: the same seed at temperature 0.8 gives the same token ids as LlamaCompletion", async (p) => {
    const sp = params({ temperature: 0.8, topP: 0.9, seed: 11, maxTokens: 40 });
    const a = await run(mb(p), user("seeded é 世"), sp);
    const b = await reference(plainUtf8, user("seeded é 世"), sp);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.text).toBe(b.text);
  });

  test.each(PATHS)("$path/$layout: natural stops (eos) happen at the same token as LlamaCompletion, with finish_reason stop", async (p) => {
    let stops = 0;
    for (const prompt of prompts) {
      const a = await run(mb(p, "eos"), user(prompt), params({ maxTokens: 48 }));
      const b = await reference(plainEos, user(prompt), params({ maxTokens: 48 }));
      expect(a.tokens).toEqual(b.tokens);
      expect(a.text).toBe(b.text);
      expect(a.chunks.join("")).toBe(a.text);
      expect(a.finishReason).toBe(b.finishReason);
      expect(a.completionTokens).toBe(a.tokens!.length);
      if (a.finishReason === "stop") {
        stops++;
        expect(a.completionTokens).toBeLessThan(48);
      } else expect(a.completionTokens).toBe(48);
    }
    expect(stops).toBeGreaterThan(0);
    expect(stops).toBeLessThan(prompts.length);
  });

  test.each(PATHS)("$path/$layout: an abort mid-character leaves no broken character and the next answer is right", async (p) => {
    const ac = new AbortController();
    let seen = 0;
    const r = await mb(p).generate({ messages: user("emoji 👋🎉"), params: params({ maxTokens: 200 }), slot: 0, signal: ac.signal }, () => {
      if (++seen === 4) ac.abort();
    });
    expect(r.aborted).toBe(true);
    expect(r.text).not.toContain("\uFFFD");
    const next = await run(mb(p), user("CJK 世界你好"), params({ maxTokens: 40 }));
    expect(next.tokens).toEqual((await reference(plainUtf8, user("CJK 世界你好"), params({ maxTokens: 40 }))).tokens);
  });

  test("over HTTP, the streamed deltas joined equal the non-streamed answer, whole characters in every delta", async () => {
    const s = await startTestServer({ slots: 1, cache: { enabled: false } }, { listen: true, engine: mb(PATHS[0]) });
    try {
      for (const prompt of prompts.slice(0, 3)) {
        const body = { messages: user(prompt), max_tokens: 40, temperature: 0 };
        const plainRes = (await (await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as any;
        const streamed = await streamChat(s.url, body);
        const deltas = streamed.chunks.map((c) => c.choices?.[0]?.delta?.content).filter((x): x is string => typeof x === "string" && x !== "");
        expect(deltas.join("")).toBe(plainRes.choices[0].message.content);
        expect(plainRes.choices[0].message.content).toBe((await reference(plainUtf8, user(prompt), params({ maxTokens: 40 }))).text);
        for (const d of deltas) expect(d).not.toContain("\uFFFD");
      }
    } finally {
      await s.app.close();
    }
  });
});
