import { describe, expect, test } from "vitest";
import { validateThresholds } from "../../src/harness/scenarios/validate-thresholds.js";
import { DEFAULT_BASELINE_POLICY, DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";

describe("validateThresholds", () => {
  test("reads defaults and per-scenario tables, with default validity and baseline policy", () => {
    const r = validateThresholds({ defaults: { spread: "p95 < 2 * p50" }, scenarios: { "same-prompt-30": { spread: null, correct: "wrong_answers == 0" } } }, "thresholds.json");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.thresholds.defaults).toEqual({ spread: "p95 < 2 * p50" });
    expect(r.thresholds.scenarios["same-prompt-30"]).toEqual({ spread: null, correct: "wrong_answers == 0" });
    expect(r.thresholds.validity).toEqual(DEFAULT_VALIDITY);
    expect(r.thresholds.baseline).toEqual(DEFAULT_BASELINE_POLICY);
  });

  test("reports a syntax error in an expression with its path and caret", () => {
    const r = validateThresholds({ defaults: { spread: "p95 < < 2" } }, "thresholds.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/thresholds\.json: \$\.defaults\.spread: .*column/);
  });

  test("reports an unknown metric with a suggestion", () => {
    const r = validateThresholds({ defaults: {}, scenarios: { x: { typo: "sucess_rate >= 0.9" } } }, "thresholds.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.scenarios\.x\.typo: unknown metric "sucess_rate" \(did you mean "success_rate"\?\)/);
  });

  test("only lets per-scenario tables remove a default with null", () => {
    const r = validateThresholds({ defaults: { a: null } }, "thresholds.json");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.defaults\.a: must be a gate expression string/);
  });

  test("checks gate names and validity limits", () => {
    const r = validateThresholds({ defaults: { "Bad Name": "p50 > 0" }, validity: { maxEventLoopDelayP99Ms: -1, bogus: 1 } }, "thresholds.json");
    const text = !r.ok ? r.errors.join("\n") : "";
    expect(text).toMatch(/\$\.defaults\.Bad Name: gate names are lower-case/);
    expect(text).toMatch(/\$\.validity\.maxEventLoopDelayP99Ms: must be a number from 0/);
    expect(text).toMatch(/\$\.validity\.bogus: unknown field/);
  });
});
