/**
 * The one-hand-off generation loop (decode the last token and sample the next in one native call), which the
 * engine uses when the addon has `decodeBatchAndSampleToken` (built by `gauntlet engine build`, see
 * src/engine/addon-patch.ts). On the npm prebuilt addon the method is stood in for by the two stock calls in
 * sequence, so this test checks the engine's loop on every machine; where the real native method exists each
 * context gets a counting wrapper that calls it. The two-call loop is the engine's own `oneHandOff: false`. Either way: the same tokens and text as the two-call loop and the
 * plain LlamaCompletion path, at temperature 0, with a seed, across stop strings and aborts.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { embeddedModelId } from "../../src/engine/embedded-model.js";
import { createLlamaEngine } from "../../src/engine/llama-engine.js";
import { createPlainEngine } from "../../src/engine/plain-engine.js";
import type { ChatMessage, Engine, GenerateResult, SamplingParams } from "../../src/engine/types.js";
import { tinyModelPath } from "../helpers/tiny-server.js";

type Proto = Record<string, unknown> & { decodeBatch(): Promise<void>; sampleToken(i: number, s: unknown): Promise<number> };
type Bindings = { AddonContext: (new (...a: unknown[]) => Proto) & { prototype: Proto } };
type HookedLlama = { _bindings: Bindings };
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
let combinedCalls = 0;
let combined: Engine;
let twoCalls: Engine;
let plain: Engine;
const restore: Array<() => void> = [];
/** Whether the addon under test has the real native method (a build from `gauntlet engine build`). */
let nativeMethod = false;

/**
 * Gives an addon the one-hand-off method, counted. A real native method cannot be replaced on the addon's
 * prototype (napi makes it read-only): each context made gets a counting own property that calls it. Without
 * one (the npm prebuilt addon), a stand-in on the prototype runs the two stock calls in turn.
 */
function addCombined(llama: HookedLlama): void {
  const Ctx = llama._bindings.AddonContext;
  const native = Ctx.prototype.decodeBatchAndSampleToken as ((i: number, s: unknown) => Promise<number>) | undefined;
  if (typeof native === "function") {
    nativeMethod = true;
    const call = native;
    const Counting = class extends Ctx {
      constructor(...a: unknown[]) {
        super(...a);
        Object.defineProperty(this, "decodeBatchAndSampleToken", {
          configurable: true,
          writable: true,
          value(this: Proto, index: number, sampler: unknown) {
            combinedCalls++;
            return call.call(this, index, sampler);
          },
        });
      }
    };
    llama._bindings.AddonContext = Counting as unknown as Bindings["AddonContext"];
    restore.push(() => (llama._bindings.AddonContext = Ctx));
    return;
  }
  const proto = Ctx.prototype;
  proto.decodeBatchAndSampleToken = async function (this: Proto, index: number, sampler: unknown): Promise<number> {
    combinedCalls++;
    await this.decodeBatch();
    return this.sampleToken(index, sampler);
  };
  restore.push(() => delete proto.decodeBatchAndSampleToken);
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
async function engineWith(setup: (llama: HookedLlama) => void): Promise<Engine> {
  const seen = hook.llamas.length;
  const pending = createLlamaEngine(await engineOptions());
  // getLlama() resolves before the model and its contexts are made: set the addon up as soon as it is known.
  while (hook.llamas.length === seen) await new Promise((r) => setImmediate(r));
  setup(hook.llamas[seen] as HookedLlama);
  return pending;
}

beforeAll(async () => {
  // The two-call loop, whatever the build: the engine's own switch.
  twoCalls = await createLlamaEngine({ ...(await engineOptions()), oneHandOff: false });
  // The engine checks for the method when it builds its slots: set it up on the engine's addon before that.
  combined = await engineWith(addCombined);
  plain = await createPlainEngine({ modelPath: await tinyModelPath(), contextSize: CONTEXT, mode: "completion" });
});
afterAll(async () => {
  await Promise.all([combined?.close(), twoCalls?.close(), plain?.close()]);
  for (const r of restore.reverse()) r();
});

describe("the one-hand-off generation loop (decodeBatchAndSampleToken)", () => {
  test("the engine says how many hand-offs a token costs: 1 with the method, 2 without", () => {
    expect(combined.info().handOffsPerToken).toBe(1);
    expect(twoCalls.info().handOffsPerToken).toBe(2);
    // The real method only comes with a local build; the npm prebuilt addon never has it.
    expect(combined.info().build).toBe(nativeMethod ? "local" : "prebuilt");
  });

  test("is what the engine uses when the addon has the method: one call per generated token", async () => {
    const before = combinedCalls;
    const r = await run(combined, user("count my calls"), params({ maxTokens: 12 }));
    expect(r.completionTokens).toBe(12);
    // One for the prompt (its last chunk) and one per token decoded after it; the 12th is not decoded.
    expect(combinedCalls - before).toBe(12);
  });

  test.each(["Tell me a story", "A B C", "The quick brown fox", "é ü 猫 🙂"])("gives the same tokens and text as the two-call loop and LlamaCompletion at temperature 0: %s", async (prompt) => {
    const [a, b, c] = [await run(combined, user(prompt), params()), await run(twoCalls, user(prompt), params()), await run(plain, user(prompt), params())];
    expect(a.tokens).toEqual(b.tokens);
    expect(a.text).toBe(b.text);
    expect(a.text).toBe(c.text);
    expect(a.chunks.join("")).toBe(a.text);
    expect([a.finishReason, a.completionTokens]).toEqual([b.finishReason, b.completionTokens]);
  });

  test("repeats the two-call loop exactly with a seed at temperature 0.8", async () => {
    for (const seed of [1, 7, 42]) {
      const p = params({ temperature: 0.8, seed, maxTokens: 20 });
      expect((await run(combined, user("seeded"), p)).tokens).toEqual((await run(twoCalls, user("seeded"), p)).tokens);
    }
  });

  test("ends at a stop string with finish_reason stop, as the two-call loop does", async () => {
    const full = (await run(twoCalls, user("stop here"), params({ maxTokens: 40 }))).text;
    const stop = full.slice(12, 14);
    const [a, b] = [await run(combined, user("stop here"), params({ maxTokens: 40, stop: [stop] })), await run(twoCalls, user("stop here"), params({ maxTokens: 40, stop: [stop] }))];
    expect(a.finishReason).toBe("stop");
    expect(a.text).toBe(b.text);
  });

  test("an abort mid-generation leaves the slot reusable, and the next answer is right", async () => {
    const ac = new AbortController();
    let n = 0;
    const aborted = await combined.generate({ messages: user("abandon"), params: params({ maxTokens: 200 }), slot: 0, signal: ac.signal }, () => {
      if (++n === 5) ac.abort();
    });
    expect(aborted.aborted).toBe(true);
    const after = await run(combined, user("after the abort"), params());
    expect(after.text).toBe((await run(plain, user("after the abort"), params())).text);
  });

  test("a reused prompt prefix gives the same answer as a cold slot", async () => {
    const conv: ChatMessage[] = [{ role: "system", content: "You are terse." }, { role: "user", content: "first question" }];
    await run(combined, conv, params({ maxTokens: 6 }));
    const follow: ChatMessage[] = [...conv, { role: "assistant", content: "ok" }, { role: "user", content: "second" }];
    const warm = await run(combined, follow, params());
    expect(warm.cachedTokens).toBeGreaterThan(5);
    expect(warm.text).toBe((await run(plain, follow, params())).text);
  });
});
