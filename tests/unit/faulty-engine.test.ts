import { describe, expect, test } from "vitest";
import { InjectedFaultError, faultPlan, parseFaultSettings, withFaults } from "../../src/engine/faulty-engine.js";
import type { Engine, GenerateRequest, GenerateResult } from "../../src/engine/types.js";

function fakeEngine(): Engine & { calls: number } {
  const engine = {
    calls: 0,
    info: () => ({ modelId: "fake", fingerprint: "f", fileSizeBytes: 1, contextSize: 128, slots: 1, threads: 1, gpu: false as const, build: "fake" }),
    countPromptTokens: async () => 1,
    async generate(_req: GenerateRequest): Promise<GenerateResult> {
      engine.calls++;
      return { text: "ok", finishReason: "stop", promptTokens: 1, completionTokens: 1, cachedTokens: 0, aborted: false };
    },
    close: async () => undefined,
  };
  return engine;
}

const request: GenerateRequest = { messages: [{ role: "user", content: "hi" }], params: { maxTokens: 1, temperature: 0, topP: 1, stop: [] } };

async function outcomes(engine: Engine, n: number): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(await engine.generate(request).then(() => true, () => false));
  return out;
}

describe("faulty-engine", () => {
  test("fails exactly 5% of 10,000 generate calls at rate 0.05", async () => {
    const engine = withFaults(fakeEngine(), { rate: 0.05, seed: 7 });
    const results = await outcomes(engine, 10_000);
    expect(results.filter((ok) => !ok)).toHaveLength(500);
    expect(engine.faultStats()).toEqual({ calls: 10_000, faults: 500 });
  });

  test("fails exactly one call in every block of 20 at rate 0.05", () => {
    const plan = faultPlan({ rate: 0.05, seed: 3 });
    for (let block = 0; block < 50; block++) {
      const faults = Array.from({ length: 20 }, (_, i) => plan(block * 20 + i)).filter(Boolean);
      expect(faults).toHaveLength(1);
    }
  });

  test("the same seed gives the same failing calls and another seed different ones", () => {
    const take = (seed: number) => Array.from({ length: 400 }, (_, i) => faultPlan({ rate: 0.05, seed })(i));
    expect(take(11)).toEqual(take(11));
    expect(take(11)).not.toEqual(take(12));
  });

  test("keeps an uneven rate exact over its block of 1000 calls", () => {
    const plan = faultPlan({ rate: 0.123, seed: 1 });
    expect(Array.from({ length: 3000 }, (_, i) => plan(i)).filter(Boolean)).toHaveLength(369);
  });

  test("rate 0 never fails and rate 1 always fails", () => {
    expect(Array.from({ length: 100 }, (_, i) => faultPlan({ rate: 0, seed: 1 })(i)).some(Boolean)).toBe(false);
    expect(Array.from({ length: 100 }, (_, i) => faultPlan({ rate: 1, seed: 1 })(i)).every(Boolean)).toBe(true);
  });

  test("a failing call throws InjectedFaultError without reaching the wrapped engine", async () => {
    const inner = fakeEngine();
    const engine = withFaults(inner, { rate: 1, seed: 1 });
    await expect(engine.generate(request)).rejects.toBeInstanceOf(InjectedFaultError);
    expect(inner.calls).toBe(0);
  });

  test("passes info, token counting, slot choice and close through to the wrapped engine", async () => {
    const inner = { ...fakeEngine(), chooseSlot: (free: number[]) => free[free.length - 1]!, closed: false };
    inner.close = async () => { inner.closed = true; };
    const engine = withFaults(inner, { rate: 0.5, seed: 1 });
    expect(engine.info().modelId).toBe("fake");
    expect(await engine.countPromptTokens([])).toBe(1);
    expect(engine.chooseSlot?.([0, 3], [])).toBe(3);
    await engine.close();
    expect(inner.closed).toBe(true);
  });

  test("leaves chooseSlot undefined when the wrapped engine has none", () => {
    expect(withFaults(fakeEngine(), { rate: 0.1, seed: 1 }).chooseSlot).toBeUndefined();
  });
});

describe("parseFaultSettings", () => {
  test("is off when the rate is unset, empty or zero", () => {
    expect(parseFaultSettings({})).toEqual({ ok: true, settings: null });
    expect(parseFaultSettings({ GAUNTLET_DEBUG_FAULT_RATE: "" })).toEqual({ ok: true, settings: null });
    expect(parseFaultSettings({ GAUNTLET_DEBUG_FAULT_RATE: "0" })).toEqual({ ok: true, settings: null });
  });

  test("reads the rate and the seed, with seed 1 by default", () => {
    expect(parseFaultSettings({ GAUNTLET_DEBUG_FAULT_RATE: "0.05" })).toEqual({ ok: true, settings: { rate: 0.05, seed: 1 } });
    expect(parseFaultSettings({ GAUNTLET_DEBUG_FAULT_RATE: "0.2", GAUNTLET_DEBUG_FAULT_SEED: "42" })).toEqual({ ok: true, settings: { rate: 0.2, seed: 42 } });
  });

  test("says what to fix for a rate outside 0..1 or a seed that is not an integer", () => {
    const bad = parseFaultSettings({ GAUNTLET_DEBUG_FAULT_RATE: "5%" });
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.error).toMatch(/GAUNTLET_DEBUG_FAULT_RATE must be a number from 0 to 1.*got "5%"/);
    const seed = parseFaultSettings({ GAUNTLET_DEBUG_FAULT_RATE: "0.1", GAUNTLET_DEBUG_FAULT_SEED: "-3" });
    expect(!seed.ok && seed.error).toMatch(/GAUNTLET_DEBUG_FAULT_SEED must be an integer/);
  });
});
