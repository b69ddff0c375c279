import { describe, expect, test } from "vitest";
import {
  ChaosEngineError,
  parseEngineFaultEnv,
  parseFaultSpec,
  splitChaosTag,
  withChaos,
} from "../../src/engine/chaos-engine.js";
import type { ChatMessage, Engine, GenerateChunk, GenerateRequest, GenerateResult } from "../../src/engine/types.js";

/** Echoes the last message back, one character per chunk; records what it was asked. */
function echoEngine(): Engine & { seen: ChatMessage[][] } {
  const seen: ChatMessage[][] = [];
  return {
    seen,
    info: () => ({ modelId: "echo", fingerprint: "f", fileSizeBytes: 1, contextSize: 128, slots: 1, threads: 1, gpu: false as const, build: "fake" }),
    countPromptTokens: async (messages) => messages.map((m) => m.content).join("").length,
    async generate(req: GenerateRequest, onChunk?: (c: GenerateChunk) => void): Promise<GenerateResult> {
      seen.push(req.messages);
      const text = req.messages.at(-1)?.content ?? "";
      for (const ch of text) onChunk?.({ type: "text", text: ch });
      return { text, finishReason: "stop", promptTokens: 1, completionTokens: text.length, cachedTokens: 0, aborted: false };
    },
    close: async () => undefined,
  };
}

const req = (content: string, signal?: AbortSignal): GenerateRequest => ({
  messages: [{ role: "user", content }],
  params: { maxTokens: 8, temperature: 0, topP: 1, stop: [] },
  signal,
});

describe("chaos-engine: parsing", () => {
  test("reads every fault spec and rejects malformed ones", () => {
    expect(parseFaultSpec("throw")).toEqual({ kind: "throw", afterChunks: 0 });
    expect(parseFaultSpec("throw:3")).toEqual({ kind: "throw", afterChunks: 3 });
    expect(parseFaultSpec("hang")).toEqual({ kind: "hang" });
    expect(parseFaultSpec("stuck:1500")).toEqual({ kind: "stuck", ms: 1500 });
    expect(parseFaultSpec("slow:25")).toEqual({ kind: "slow", msPerChunk: 25 });
    expect(parseFaultSpec("none:abc-1")).toEqual({ kind: "none" });
    for (const bad of ["", "slow", "slow:-1", "slow:1e3", "throw:x", "hang:5", "explode", "stuck:99999999"]) {
      expect(parseFaultSpec(bad), bad).toBeNull();
    }
  });

  test("the env switch is off when unset or empty, a usage error when malformed", () => {
    expect(parseEngineFaultEnv({})).toEqual({ ok: true, setting: null });
    expect(parseEngineFaultEnv({ GAUNTLET_DEBUG_ENGINE_FAULT: " " })).toEqual({ ok: true, setting: null });
    expect(parseEngineFaultEnv({ GAUNTLET_DEBUG_ENGINE_FAULT: "slow:10" })).toEqual({ ok: true, setting: { mode: "all", fault: { kind: "slow", msPerChunk: 10 } } });
    expect(parseEngineFaultEnv({ GAUNTLET_DEBUG_ENGINE_FAULT: "tagged" })).toEqual({ ok: true, setting: { mode: "tagged" } });
    const bad = parseEngineFaultEnv({ GAUNTLET_DEBUG_ENGINE_FAULT: "explode" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/GAUNTLET_DEBUG_ENGINE_FAULT.*throw.*hang.*slow/);
  });

  test("a tag is taken off the last user message only", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "[chaos:throw] stays" },
      { role: "user", content: "[chaos:slow:5] hello" },
    ];
    const split = splitChaosTag(messages);
    expect(split.fault).toEqual({ kind: "slow", msPerChunk: 5 });
    expect(split.messages).toEqual([{ role: "system", content: "[chaos:throw] stays" }, { role: "user", content: "hello" }]);
    expect(splitChaosTag([{ role: "user", content: "[chaos:bogus] hi" }]).fault).toBeNull();
    expect(splitChaosTag([{ role: "user", content: "plain" }])).toEqual({ fault: null, messages: [{ role: "user", content: "plain" }] });
  });
});

describe("chaos-engine: faults", () => {
  test("throw fails before any text; throw:N after N chunks", async () => {
    await expect(withChaos(echoEngine(), { mode: "all", fault: { kind: "throw", afterChunks: 0 } }).generate(req("abc"))).rejects.toBeInstanceOf(ChaosEngineError);
    const chunks: string[] = [];
    const engine = withChaos(echoEngine(), { mode: "all", fault: { kind: "throw", afterChunks: 2 } });
    await expect(engine.generate(req("abcdef"), (c) => chunks.push(c.text))).rejects.toBeInstanceOf(ChaosEngineError);
    expect(chunks).toEqual(["a", "b"]);
  });

  test("hang produces nothing until the signal aborts, then reports an aborted generation", async () => {
    const ac = new AbortController();
    const chunks: string[] = [];
    const pending = withChaos(echoEngine(), { mode: "all", fault: { kind: "hang" } }).generate(req("abc", ac.signal), (c) => chunks.push(c.text));
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    ac.abort();
    const result = await pending;
    expect(result.aborted).toBe(true);
    expect(chunks).toEqual([]);
  });

  test("hang is released by close()", async () => {
    const engine = withChaos(echoEngine(), { mode: "all", fault: { kind: "hang" } });
    const pending = engine.generate(req("abc"));
    await engine.close();
    expect((await pending).aborted).toBe(true);
  });

  test("stuck ignores the signal for its whole duration, then answers aborted", async () => {
    const ac = new AbortController();
    const inner = echoEngine();
    const pending = withChaos(inner, { mode: "all", fault: { kind: "stuck", ms: 30 } }).generate(req("abc", ac.signal));
    ac.abort();
    const result = await pending;
    expect(result.aborted).toBe(true);
    expect(inner.seen).toHaveLength(0);
  });

  test("slow emits the inner engine's exact text, and stops with the partial text when aborted", async () => {
    const chunks: string[] = [];
    const result = await withChaos(echoEngine(), { mode: "all", fault: { kind: "slow", msPerChunk: 1 } }).generate(req("hello"), (c) => chunks.push(c.text));
    expect(chunks.join("")).toBe("hello");
    expect(result).toMatchObject({ text: "hello", aborted: false });

    const ac = new AbortController();
    const partial: string[] = [];
    const slow = withChaos(echoEngine(), { mode: "all", fault: { kind: "slow", msPerChunk: 5 } });
    const aborted = await slow.generate(req("abcdefghijklmnop", ac.signal), (c) => {
      partial.push(c.text);
      if (partial.length === 3) ac.abort();
    });
    expect(aborted.aborted).toBe(true);
    expect(aborted.text).toBe(partial.join(""));
    expect(partial.length).toBeLessThan(16);
  });

  test("tagged mode: untagged requests pass through; the inner engine never sees the tag", async () => {
    const inner = echoEngine();
    const engine = withChaos(inner, { mode: "tagged" });
    expect((await engine.generate(req("plain"))).text).toBe("plain");
    expect((await engine.generate(req("[chaos:none:n1] same text"))).text).toBe("same text");
    await expect(engine.generate(req("[chaos:throw] boom"))).rejects.toBeInstanceOf(ChaosEngineError);
    expect(inner.seen.map((m) => m.at(-1)?.content)).toEqual(["plain", "same text"]);
    expect(await engine.countPromptTokens([{ role: "user", content: "[chaos:hang] abc" }])).toBe(3);
  });

  test("optional engine members are kept or left out as the inner engine has them", () => {
    const inner = echoEngine();
    const plain = withChaos(inner, { mode: "tagged" });
    expect(plain.chooseSlot).toBeUndefined();
    const withChoose = withChaos({ ...inner, chooseSlot: (free) => free.at(-1) ?? 0 }, { mode: "tagged" });
    expect(withChoose.chooseSlot?.([0, 1], [{ role: "user", content: "[chaos:hang] x" }])).toBe(1);
  });
});
