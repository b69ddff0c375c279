import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ContextOverflowError, TransientEngineError } from "../../src/errors.js";
import { createRetryingEngine, isTransientEngineFailure, TRANSIENT_NATIVE_MESSAGES } from "../../src/engine/retrying-engine.js";
import type { Engine, GenerateChunk, GenerateRequest, GenerateResult } from "../../src/engine/types.js";

const ok: GenerateResult = { text: "hi", finishReason: "length", promptTokens: 3, completionTokens: 2, cachedTokens: 0, aborted: false };
const req: GenerateRequest = { messages: [{ role: "user", content: "x" }], params: { maxTokens: 2, temperature: 0, topP: 1, stop: [] } };

function scripted(steps: Array<"ok" | "transient" | "fatal" | "chunk-then-transient">): Engine & { calls: number } {
  const e = {
    calls: 0,
    info: () => ({ modelId: "m", fingerprint: "f", fileSizeBytes: 1, contextSize: 10, slots: 1, threads: 1, gpu: false as const, build: "prebuilt" }),
    countPromptTokens: async () => 1,
    close: async () => undefined,
    async generate(_r: GenerateRequest, onChunk?: (c: GenerateChunk) => void) {
      const step = steps[e.calls++] ?? "ok";
      if (step === "transient") throw new TransientEngineError("engine timed out");
      if (step === "fatal") throw new Error("fatal");
      if (step === "chunk-then-transient") {
        onChunk?.({ type: "text", text: "partial" });
        throw new TransientEngineError("broke mid-stream");
      }
      onChunk?.({ type: "text", text: "hi" });
      return ok;
    },
  };
  return e;
}

const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe("createRetryingEngine", () => {
  test("retries transient errors with 100, 200, 400 ms backoff and counts them", async () => {
    const inner = scripted(["transient", "transient", "ok"]);
    const delays: number[] = [];
    const e = createRetryingEngine(inner, { retries: 3, baseMs: 100, jitter: 0, ...noSleep, onRetry: (_a, d) => delays.push(d) });
    await expect(e.generate(req)).resolves.toEqual(ok);
    expect(inner.calls).toBe(3);
    expect(delays).toEqual([100, 200]);
  });

  test("gives up after the configured number of retries with the last error", async () => {
    const inner = scripted(["transient", "transient", "transient", "transient", "ok"]);
    const e = createRetryingEngine(inner, { retries: 3, baseMs: 100, jitter: 0, ...noSleep });
    await expect(e.generate(req)).rejects.toBeInstanceOf(TransientEngineError);
    expect(inner.calls).toBe(4);
  });

  test("never retries once a token has gone to the client", async () => {
    const inner = scripted(["chunk-then-transient", "ok"]);
    const chunks: string[] = [];
    const e = createRetryingEngine(inner, { retries: 3, baseMs: 100, jitter: 0, ...noSleep });
    await expect(e.generate(req, (c) => chunks.push(c.text))).rejects.toThrow("broke mid-stream");
    expect(inner.calls).toBe(1);
    expect(chunks).toEqual(["partial"]);
  });

  test("does not retry errors that are not transient", async () => {
    const inner = scripted(["fatal", "ok"]);
    const e = createRetryingEngine(inner, { retries: 3, baseMs: 100, jitter: 0, ...noSleep });
    await expect(e.generate(req)).rejects.toThrow("fatal");
    expect(inner.calls).toBe(1);
  });

  test("jitter keeps delays within the stated band", async () => {
    const inner = scripted(["transient", "transient", "transient", "ok"]);
    const delays: number[] = [];
    const e = createRetryingEngine(inner, { retries: 3, baseMs: 100, jitter: 0.2, sleep: async () => undefined, random: () => 0.999, onRetry: (_a, d) => delays.push(d) });
    await e.generate(req);
    expect(delays).toHaveLength(3);
    [100, 200, 400].forEach((base, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(base * 0.8);
      expect(delays[i]).toBeLessThanOrEqual(base * 1.2);
    });
  });

  test("a failed native decode (the addon's own message) is retried and the answer comes from the next attempt", async () => {
    let calls = 0;
    const inner = scripted(["ok"]);
    const flaky: Engine = {
      ...inner,
      generate: async (r, c) => {
        if (calls++ === 0) throw new Error("could not find a KV slot for the batch (try reducing the size of the batch or increase the context)");
        return inner.generate(r, c);
      },
    };
    const retried: unknown[] = [];
    const e = createRetryingEngine(flaky, { retries: 3, baseMs: 100, jitter: 0, ...noSleep, onRetry: (_a, _d, err) => retried.push(err) });
    await expect(e.generate(req)).resolves.toEqual(ok);
    expect(calls).toBe(2);
    expect(retried).toHaveLength(1);
  });
});

describe("isTransientEngineFailure", () => {
  const addonSource = readFileSync(join(process.cwd(), "node_modules/node-llama-cpp/llama/addon/AddonContext.cpp"), "utf8");
  const contextSource = readFileSync(join(process.cwd(), "node_modules/node-llama-cpp/dist/evaluator/LlamaContext/LlamaContext.js"), "utf8");

  test("every message it treats as transient is one node-llama-cpp 3.22.1 really produces", () => {
    expect(TRANSIENT_NATIVE_MESSAGES.length).toBeGreaterThanOrEqual(4);
    for (const message of TRANSIENT_NATIVE_MESSAGES) {
      const inAddon = addonSource.includes(`SetError(${JSON.stringify(message)})`);
      const inContext = contextSource.includes(`throw new Error(${JSON.stringify(message)})`);
      expect(inAddon || inContext, message).toBe(true);
    }
  });

  test.each([
    ["no free KV slot", new Error("could not find a KV slot for the batch (try reducing the size of the batch or increase the context)")],
    ["a failed llama_decode", new Error("Eval has failed")],
    ["an exception inside llama_decode", new Error('Unknown error when calling "llama_decode"')],
    ["no context sequence free", new Error("No sequences left")],
    ["the engine's own transient error", new TransientEngineError("engine timed out")],
  ])("%s is transient", (_name, err) => {
    expect(isTransientEngineFailure(err)).toBe(true);
  });

  test.each([
    ["a prompt too long for the context", new ContextOverflowError(5000, 2048)],
    ["a disposed context (shutting down)", new Error("Context is disposed")],
    ["a closed engine", new Error("engine is closed")],
    ["a model that cannot generate", new Error("This model does not support token generation")],
    ["a context shift that cannot free space", new Error("Failed to free up space for new tokens")],
    ["an abort", Object.assign(new Error("The operation was aborted"), { name: "AbortError" })],
    ["a message that only contains a transient one", new Error("wrapped: Eval has failed; and more")],
    ["something thrown that is not an Error", "Eval has failed"],
    ["null", null],
  ])("%s is not transient", (_name, err) => {
    expect(isTransientEngineFailure(err)).toBe(false);
  });
});
