/**
 * The generation loops a `gauntlet engine build` addon allows (src/engine/addon-patch.ts): one hand-off per token
 * (`decodeBatchAndSampleToken`: decode the last token and sample the next in one native call) and the native token
 * loop (`generateTokens`: the whole loop in one native call, tokens handed back without stopping it). On the npm
 * prebuilt addon both methods are stood in for by the stock calls (the loop's stand-in runs ahead of its callbacks,
 * as the native one does), so this test checks the engine's side on every machine; where the real native methods
 * exist each context gets counting wrappers that call them. The two-call loop is the engine's own
 * `handOffs: "two"`. Every loop: the same tokens and text as the two-call loop and the plain LlamaCompletion path,
 * at temperature 0, with a seed, across stop strings, aborts and prefix reuse.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { embeddedModelId } from "../../src/engine/embedded-model.js";
import { createLlamaEngine } from "../../src/engine/llama-engine.js";
import { createPlainEngine } from "../../src/engine/plain-engine.js";
import type { ChatMessage, Engine, GenerateResult, SamplingParams } from "../../src/engine/types.js";
import { tinyModelPath } from "../helpers/tiny-server.js";

type Proto = Record<string, unknown> & {
  decodeBatch(): Promise<void>;
  sampleToken(i: number, s: unknown): Promise<number>;
  initBatch(n: number): void;
  addToBatch(seq: number, pos: number, tokens: Uint32Array, logits: Uint32Array): Uint32Array;
};
type Bindings = { AddonContext: (new (...a: unknown[]) => Proto) & { prototype: Proto } };
type HookedLlama = { _bindings: Bindings };
type GenerateTokens = (token: number, pos: number, seq: number, maxDecodes: number, sampler: unknown, stop: Int32Array, onToken: (t: number) => void) => Promise<Uint32Array>;
const hook = vi.hoisted(() => ({ llamas: [] as unknown[] }));

// Every Llama the engine gets (each getLlama() loads its own addon): remembered, so a test can set its addon up.
vi.mock("node-llama-cpp", async (importOriginal) => {
  const real = await importOriginal<typeof import("node-llama-cpp")>();
  return {
    ...real,
    getLlama: async (...args: Parameters<typeof real.getLlama>) => {
      const llama = await real.getLlama(...args);
      hook.llamas.push(llama);
      return llama;
    },
  };
});

const CONTEXT = 256;
const calls = { combined: 0, loop: 0 };
let combined: Engine;
let looped: Engine;
let twoCalls: Engine;
let plain: Engine;
const restore: Array<() => void> = [];
/** Whether the addon under test has the real native methods (a build from `gauntlet engine build`). */
let nativeMethods = false;

/** The stock-call stand-in for generateTokens: runs ahead, delivering each token on a later turn of the event loop. */
const standInLoop: GenerateTokens = async function (this: Proto, token, pos, seq, maxDecodes, sampler, stop, onToken) {
  const fed: number[] = [];
  const delivered: Array<Promise<void>> = [];
  for (let i = 0; i < maxDecodes && stop[0] === 0; i++) {
    this.initBatch(1);
    this.addToBatch(seq, pos + i, Uint32Array.of(token), Uint32Array.of(0));
    await this.decodeBatch();
    fed.push(token);
    token = await this.sampleToken(0, sampler);
    const t = token;
    delivered.push(new Promise<void>((resolve) => setImmediate(() => (onToken(t), resolve()))));
  }
  await Promise.all(delivered);
  return Uint32Array.from(fed);
};

/**
 * Gives an addon both methods, counted. Real native methods cannot be replaced on the addon's prototype (napi
 * makes them read-only): each context made gets counting own properties that call them. Without them (the npm
 * prebuilt addon), stand-ins on the prototype run the stock calls.
 */
function addMethods(llama: HookedLlama): void {
  const Ctx = llama._bindings.AddonContext;
  const native = Ctx.prototype.decodeBatchAndSampleToken as ((i: number, s: unknown) => Promise<number>) | undefined;
  const nativeLoop = Ctx.prototype.generateTokens as GenerateTokens | undefined;
  if (typeof native === "function" && typeof nativeLoop === "function") {
    nativeMethods = true;
    const [sample, loop] = [native, nativeLoop];
    const Counting = class extends Ctx {
      constructor(...a: unknown[]) {
        super(...a);
        const own = (name: string, value: (this: Proto, ...args: never[]) => unknown) => Object.defineProperty(this, name, { configurable: true, writable: true, value });
        own("decodeBatchAndSampleToken", function (this: Proto, index: number, sampler: unknown) {
          calls.combined++;
          return sample.call(this, index, sampler);
        });
        own("generateTokens", function (this: Proto, ...args: Parameters<GenerateTokens>) {
          calls.loop++;
          return loop.apply(this, args);
        });
      }
    };
    llama._bindings.AddonContext = Counting as unknown as Bindings["AddonContext"];
    restore.push(() => (llama._bindings.AddonContext = Ctx));
    return;
  }
  const proto = Ctx.prototype;
  proto.decodeBatchAndSampleToken = async function (this: Proto, index: number, sampler: unknown): Promise<number> {
    calls.combined++;
    await this.decodeBatch();
    return this.sampleToken(index, sampler);
  };
  proto.generateTokens = function (this: Proto, ...args: Parameters<GenerateTokens>) {
    calls.loop++;
    return standInLoop.apply(this, args);
  };
  restore.push(() => {
    delete proto.decodeBatchAndSampleToken;
    delete proto.generateTokens;
  });
}

const user = (content: string): ChatMessage[] => [{ role: "user", content }];
const params = (p: Partial<SamplingParams> = {}): SamplingParams => ({ maxTokens: 24, temperature: 0, topP: 1, stop: [], ...p });
async function run(engine: Engine, messages: ChatMessage[], p: SamplingParams, signal?: AbortSignal): Promise<GenerateResult & { chunks: string[] }> {
  const chunks: string[] = [];
  const r = await engine.generate({ messages, params: p, slot: 0, signal }, (c) => chunks.push(c.text));
  return { ...r, chunks };
}
const engineOptions = async () => ({ modelPath: await tinyModelPath(), modelId: embeddedModelId("tiny"), slots: 1, threads: 1, contextSize: CONTEXT, gpu: false as const, layout: "contexts" as const, generationPath: "native" as const });
/** An engine whose addon was set up by `setup` between loading the addon and creating the slots. */
async function engineWith(setup: (llama: HookedLlama) => void, handOffs: "one" | "loop"): Promise<Engine> {
  const seen = hook.llamas.length;
  const pending = createLlamaEngine({ ...(await engineOptions()), handOffs });
  // getLlama() resolves before the model and its contexts are made: set the addon up as soon as it is known.
  while (hook.llamas.length === seen) await new Promise((r) => setImmediate(r));
  setup(hook.llamas[seen] as HookedLlama);
  return pending;
}

beforeAll(async () => {
  // The two-call loop, whatever the build: the engine's own switch.
  twoCalls = await createLlamaEngine({ ...(await engineOptions()), handOffs: "two" });
  // The engine checks for the methods when it builds its slots: set them up on the engine's addon before that.
  combined = await engineWith(addMethods, "one");
  looped = await engineWith(addMethods, "loop");
  plain = await createPlainEngine({ modelPath: await tinyModelPath(), contextSize: CONTEXT, mode: "completion" });
});
afterAll(async () => {
  await Promise.all([combined?.close(), looped?.close(), twoCalls?.close(), plain?.close()]);
  for (const r of restore.reverse()) r();
});

describe("the generation loops of a gauntlet engine build", () => {
  test("the engine says how many hand-offs a token costs: 0 with the native loop, 1 with decode-and-sample, 2 without", () => {
    expect(looped.info().handOffsPerToken).toBe(0);
    expect(combined.info().handOffsPerToken).toBe(1);
    expect(twoCalls.info().handOffsPerToken).toBe(2);
    // The real methods only come with a local build; the npm prebuilt addon never has them.
    expect(looped.info().build).toBe(nativeMethods ? "local" : "prebuilt");
    // CI's engine tier builds the addon (gauntlet engine build) and sets this: there the stand-ins must not be used.
    if (process.env.GAUNTLET_REQUIRE_NATIVE_LOOP) expect(nativeMethods, "the addon should have the patched native methods (gauntlet engine build)").toBe(true);
  });

  test("one hand-off per token: one decode-and-sample call per generated token", async () => {
    const before = { ...calls };
    const r = await run(combined, user("count my calls"), params({ maxTokens: 12 }));
    expect(r.completionTokens).toBe(12);
    // One for the prompt (its last chunk) and one per token decoded after it; the 12th is not decoded.
    expect(calls.combined - before.combined).toBe(12);
    expect(calls.loop - before.loop).toBe(0);
  });

  test("the native loop: one decode-and-sample call for the prompt, then one loop call for the rest", async () => {
    const before = { ...calls };
    const r = await run(looped, user("count my calls"), params({ maxTokens: 12 }));
    expect(r.completionTokens).toBe(12);
    expect(calls.combined - before.combined).toBe(1);
    expect(calls.loop - before.loop).toBe(1);
    // A one-token answer needs no loop at all.
    const one = await run(looped, user("just one"), params({ maxTokens: 1 }));
    expect(one.completionTokens).toBe(1);
    expect(calls.loop - before.loop).toBe(1);
  });
});

describe.each([
  ["one hand-off per token", () => combined],
  ["the native token loop", () => looped],
])("%s", (_name, engine) => {
  test.each(["Tell me a story", "A B C", "The quick brown fox", "é ü 猫 🙂"])("gives the same tokens and text as the two-call loop and LlamaCompletion at temperature 0: %s", async (prompt) => {
    const [a, b, c] = [await run(engine(), user(prompt), params()), await run(twoCalls, user(prompt), params()), await run(plain, user(prompt), params())];
    expect(a.tokens).toEqual(b.tokens);
    expect(a.text).toBe(b.text);
    expect(a.text).toBe(c.text);
    expect(a.chunks.join("")).toBe(a.text);
    expect([a.finishReason, a.completionTokens]).toEqual([b.finishReason, b.completionTokens]);
  });

  test("repeats the two-call loop exactly with a seed at temperature 0.8", async () => {
    for (const seed of [1, 7, 42]) {
      const p = params({ temperature: 0.8, seed, maxTokens: 20 });
      expect((await run(engine(), user("seeded"), p)).tokens).toEqual((await run(twoCalls, user("seeded"), p)).tokens);
    }
  });

  test("ends at a stop string with finish_reason stop, as the two-call loop does, and the next answer on that cache is right", async () => {
    const full = (await run(twoCalls, user("stop here"), params({ maxTokens: 40 }))).text;
    const stop = full.slice(12, 14);
    const [a, b] = [await run(engine(), user("stop here"), params({ maxTokens: 40, stop: [stop] })), await run(twoCalls, user("stop here"), params({ maxTokens: 40, stop: [stop] }))];
    expect(a.finishReason).toBe("stop");
    expect(a.text).toBe(b.text);
    expect(a.tokens).toEqual(b.tokens);
    // The KV cache may hold tokens the loop decoded past the stop string: a follow-up that shares the prompt must
    // still reuse only what really matches and answer as a cold slot does.
    const follow: ChatMessage[] = [...user("stop here"), { role: "assistant", content: a.text }, { role: "user", content: "and then?" }];
    const warm = await run(engine(), follow, params());
    expect(warm.cachedTokens).toBeGreaterThan(0);
    expect(warm.text).toBe((await run(plain, follow, params())).text);
  });

  test("ends at max_tokens with finish_reason length and exactly that many tokens", async () => {
    for (const maxTokens of [1, 2, 3, 17]) {
      const [a, b] = [await run(engine(), user("count to many"), params({ maxTokens })), await run(twoCalls, user("count to many"), params({ maxTokens }))];
      expect(a.tokens).toEqual(b.tokens);
      expect([a.finishReason, a.completionTokens]).toEqual([b.finishReason, b.completionTokens]);
    }
  });

  test("an abort mid-generation leaves the slot reusable, and the next answer is right", async () => {
    const ac = new AbortController();
    let n = 0;
    const aborted = await engine().generate({ messages: user("abandon"), params: params({ maxTokens: 200 }), slot: 0, signal: ac.signal }, () => {
      if (++n === 5) ac.abort();
    });
    expect(aborted.aborted).toBe(true);
    expect(aborted.completionTokens).toBeLessThan(200);
    const after = await run(engine(), user("after the abort"), params());
    expect(after.text).toBe((await run(plain, user("after the abort"), params())).text);
  });

  test("a reused prompt prefix gives the same answer as a cold slot", async () => {
    const conv: ChatMessage[] = [{ role: "system", content: "You are terse." }, { role: "user", content: "first question" }];
    await run(engine(), conv, params({ maxTokens: 6 }));
    const follow: ChatMessage[] = [...conv, { role: "assistant", content: "ok" }, { role: "user", content: "second" }];
    const warm = await run(engine(), follow, params());
    expect(warm.cachedTokens).toBeGreaterThan(5);
    expect(warm.text).toBe((await run(plain, follow, params())).text);
  });
});
