import { describe, expect, test } from "vitest";
import { planRequest, referenceRequests } from "../../src/harness/scenarios/plan.js";
import { validateScenario } from "../../src/harness/scenarios/validate-scenario.js";
import type { ScenarioDef } from "../../src/harness/scenarios/types.js";

function scenario(extra: object): ScenarioDef {
  const r = validateScenario({ name: "s", description: "d", requests: 6, connections: 1, prompt: "Prompt {i}", distinctPrompts: 3, maxTokens: [2, 8], ...extra }, "s.json");
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.scenario;
}

describe("planRequest", () => {
  test("cycles prompt numbers and max_tokens by request index", () => {
    const s = scenario({});
    const plans = [0, 1, 2, 3, 4, 5].map((i) => planRequest(s, i, null));
    expect(plans.map((p) => p.key)).toEqual(["p0-t2", "p1-t8", "p2-t2", "p0-t8", "p1-t2", "p2-t8"]);
    expect(plans[4]!.body).toEqual({ messages: [{ role: "user", content: "Prompt 1" }], max_tokens: 2, temperature: 0, stream: false });
  });

  test("asks a streamed request for usage and adds the system prompt and model when given", () => {
    const s = scenario({ stream: true, system: "Be brief." });
    expect(planRequest(s, 0, "m").body).toEqual({
      model: "m",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Prompt 0" }],
      max_tokens: 2,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});

describe("referenceRequests", () => {
  test("gives one request per distinct key, in order of first use", () => {
    const s = scenario({ requests: 2, warmupRequests: 1 });
    expect(referenceRequests(s, null).map((p) => p.key)).toEqual(["p0-t2", "p1-t8", "p2-t2"]);
  });

  test("covers every combination a time-bounded run can reach", () => {
    const s = scenario({ requests: undefined, durationMs: 1000 });
    expect(referenceRequests(s, null)).toHaveLength(6);
  });
});
