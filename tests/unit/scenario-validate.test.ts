import { describe, expect, test } from "vitest";
import { validateScenario } from "../../src/harness/scenarios/validate-scenario.js";

const minimal = { name: "tiny", description: "d", requests: 10, connections: 2, prompt: "Request {i}", distinctPrompts: 10, maxTokens: 8 };

describe("validateScenario", () => {
  test("fills defaults for a minimal scenario", () => {
    const r = validateScenario(minimal, "tiny.json");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario).toMatchObject({
      name: "tiny", requests: 10, durationMs: null, connections: 2, rate: null, stream: false, maxTokens: [8],
      temperature: 0, check: "reference", warmupRequests: 0, tags: [], server: { args: [], env: {} }, arrival: "constant",
    });
  });

  test("reports every problem at once with the field path and what to fix", () => {
    const r = validateScenario({ name: "Bad Name", requests: 0, connections: "ten", maxTokens: [], prompt: 5 }, "bad.json");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join("\n");
    expect(text).toMatch(/bad\.json: \$\.name: .*lower-case letters, digits and '-'/);
    expect(text).toMatch(/\$\.requests: must be an integer from 1 to 100000, got 0/);
    expect(text).toMatch(/\$\.connections: must be an integer from 1 to 1000, got "ten"/);
    expect(text).toMatch(/\$\.maxTokens: must be an integer or a non-empty list of integers/);
    expect(text).toMatch(/\$\.prompt: must be a non-empty string/);
    expect(text).toMatch(/\$\.description: is required/);
  });

  test("suggests the intended name for a misspelt field", () => {
    const r = validateScenario({ ...minimal, conections: 3 }, "tiny.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.conections: unknown field \(did you mean "connections"\?\)/);
  });

  test("requires exactly one of requests and durationMs", () => {
    const both = validateScenario({ ...minimal, durationMs: 1000 }, "tiny.json");
    expect(!both.ok && both.errors.join("\n")).toMatch(/give either requests or durationMs, not both/);
    const { requests: _r, ...none } = minimal;
    const neither = validateScenario(none, "tiny.json");
    expect(!neither.ok && neither.errors.join("\n")).toMatch(/give requests \(a count\) or durationMs/);
  });

  test("refuses reference checking above temperature 0", () => {
    const r = validateScenario({ ...minimal, temperature: 0.7 }, "tiny.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.check: "reference" needs temperature 0.*set "check": "none"/);
  });

  test("requires {i} in the prompt when several distinct prompts are asked for", () => {
    const r = validateScenario({ ...minimal, prompt: "always the same" }, "tiny.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.prompt: must contain \{i\}/);
  });

  test("requires the name to match the file name", () => {
    const r = validateScenario(minimal, "other.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.name: "tiny" must match the file name "other\.json"/);
  });

  test("accepts an open-loop poisson scenario with server arguments and environment", () => {
    const r = validateScenario({ ...minimal, rate: 20, arrival: "poisson", seed: 9, stream: true, maxTokens: [4, 64], server: { args: ["--slots", "2"], env: { GAUNTLET_DEBUG_FAULT_RATE: "0.05" } } }, "tiny.json");
    expect(r.ok && r.scenario).toMatchObject({ rate: 20, arrival: "poisson", seed: 9, stream: true, maxTokens: [4, 64], server: { args: ["--slots", "2"], env: { GAUNTLET_DEBUG_FAULT_RATE: "0.05" } } });
  });

  test("rejects a scenario that would need more than 1000 reference requests", () => {
    const r = validateScenario({ ...minimal, requests: 5000, distinctPrompts: 5000 }, "tiny.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/needs 5000 reference requests; at most 1000/);
  });

  test("rejects something that is not an object", () => {
    const r = validateScenario([1, 2], "tiny.json");
    expect(!r.ok && r.errors).toEqual(["tiny.json: $: a scenario must be a JSON object, got an array"]);
  });
});
