import { describe, expect, test } from "vitest";
import { withFaults } from "../../src/engine/faulty-engine.js";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import type { Engine } from "../../src/engine/types.js";

describe("withFaults", () => {
  test("forwards every optional engine capability (warm, prompt state, stats, routing), not only generate", async () => {
    const calls: string[] = [];
    const inner: Engine = {
      ...standInEngine(),
      chooseSlot: (free) => (calls.push("chooseSlot"), free[0]!),
      warmSystemPrompt: async () => (calls.push("warm"), 3),
      clearPromptState: async () => void calls.push("clear"),
    } as Engine;
    const wrapped = withFaults(inner, { rate: 0.5, seed: 1 }) as Engine;
    expect(typeof wrapped.warmSystemPrompt).toBe("function");
    expect(typeof wrapped.clearPromptState).toBe("function");
    await wrapped.warmSystemPrompt!("be brief", 0);
    await wrapped.clearPromptState!();
    wrapped.chooseSlot!([1, 0], [], "s");
    expect(calls).toEqual(["warm", "clear", "chooseSlot"]);
  });
});
