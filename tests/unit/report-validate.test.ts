import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { validateReport } from "../../src/harness/report/validate.js";
import type { RunReport } from "../../src/harness/report/types.js";

type Mutable = Record<string, unknown>;
const schema = JSON.parse(readFileSync(new URL("../../docs/report.schema.json", import.meta.url), "utf8")) as {
  required: string[];
  $defs: Record<string, { required?: string[] }>;
};

function mutated(f: (r: RunReport & Mutable) => void): RunReport {
  const r = structuredClone(exampleReport()) as RunReport & Mutable;
  f(r);
  return r;
}

describe("report-validate", () => {
  test("the example report is valid", () => {
    expect(validateReport(exampleReport())).toEqual([]);
  });

  test("a report survives a JSON round trip and stays valid", () => {
    expect(validateReport(JSON.parse(JSON.stringify(exampleReport())))).toEqual([]);
  });

  test("non-objects are rejected", () => {
    expect(validateReport(null)).toEqual(["$: expected an object"]);
    expect(validateReport([])).toEqual(["$: expected an object"]);
  });

  test("every property the JSON Schema requires is enforced by the validator", () => {
    const sections: [string, (r: Mutable) => Mutable][] = [
      ["", (r) => r],
      ["environment", (r) => r.environment as Mutable],
      ["scenario", (r) => (r.scenarios as Mutable[])[0]!],
      ["gate", (r) => (r.gates as Mutable[])[0]!],
      ["summary", (r) => (r.scenarios as Mutable[])[0]!.latencyMs as Mutable],
      ["requests", (r) => (r.scenarios as Mutable[])[0]!.requests as Mutable],
    ];
    for (const [def, pick] of sections) {
      const required = def === "" ? schema.required : schema.$defs[def]?.required;
      expect(required, def).toBeDefined();
      for (const key of required!) {
        const r = mutated((x) => { delete pick(x)[key]; });
        expect(validateReport(r), `${def}.${key}`).not.toEqual([]);
      }
    }
  });

  test("properties the schema does not define are rejected wherever they appear", () => {
    const places: ((r: RunReport) => object)[] = [
      (r) => r, (r) => r.tool, (r) => r.environment, (r) => r.environment.model!, (r) => r.scenarios[0]!,
      (r) => r.scenarios[0]!.requests, (r) => r.scenarios[0]!.latencyMs, (r) => r.gates[0]!, (r) => r.series!,
      (r) => r.series!.memory[0]!, (r) => r.series!.latency[0]!, (r) => r.series!.markers![0]!, (r) => r.baseline!,
      (r) => r.baseline!.comparisons[0]!,
    ];
    for (const [i, place] of places.entries()) {
      const errs = validateReport(mutated((r) => { (place(r) as Mutable).surprise = 1; }));
      expect(errs, `place ${i}`).toEqual([expect.stringMatching(/\.surprise: is not a property/)]);
    }
  });

  test("wrong types and values are reported with their JSON path", () => {
    const errs = validateReport(mutated((r) => {
      (r as Mutable).schemaVersion = 2;
      (r as Mutable).kind = "bench";
      r.startedAt = "yesterday";
      r.scenarios[0]!.requests.total = -1;
      r.gates[1]!.verdict = "green" as never;
    }));
    expect(errs).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\$\.schemaVersion: /),
      expect.stringMatching(/^\$\.kind: /),
      expect.stringMatching(/^\$\.startedAt: .*ISO/),
      expect.stringMatching(/^\$\.scenarios\[0\]\.requests\.total: /),
      expect.stringMatching(/^\$\.gates\[1\]\.verdict: /),
    ]));
  });

  test("a passing verdict with a red or unavailable gate is inconsistent", () => {
    const errs = validateReport(mutated((r) => { r.verdict = "pass"; }));
    expect(errs.some((e) => e.includes("chat-stream/success"))).toBe(true);
    expect(errs.some((e) => e.includes("server-queue"))).toBe(true);
  });

  test("invalid verdicts need reasons and reasons need an invalid verdict", () => {
    expect(validateReport(mutated((r) => { r.verdict = "invalid"; })).join()).toContain("invalidReasons");
    expect(validateReport(mutated((r) => { r.invalidReasons = ["harness lagged"]; })).join()).toContain("invalidReasons");
    expect(validateReport(mutated((r) => { r.verdict = "invalid"; r.invalidReasons = ["harness lagged"]; }))).toEqual([]);
  });

  test("percentiles must be ordered and request counts must add up", () => {
    const errs = validateReport(mutated((r) => {
      r.scenarios[0]!.latencyMs.p99 = 1;
      r.scenarios[1]!.requests.ok = 10;
    }));
    expect(errs.join("\n")).toMatch(/scenarios\[0\]\.latencyMs: .*order/);
    expect(errs.join("\n")).toMatch(/scenarios\[1\]\.requests: /);
  });

  test("an empty summary has null statistics", () => {
    const errs = validateReport(mutated((r) => { r.scenarios[1]!.latencyMs.count = 0; }));
    expect(errs.join()).toContain("scenarios[1].latencyMs");
    const ok = mutated((r) => {
      r.scenarios[1]!.latencyMs = { count: 0, min: null, max: null, mean: null, stddev: null, p50: null, p90: null, p95: null, p99: null, p999: null };
    });
    expect(validateReport(ok)).toEqual([]);
  });

  test("gates may only name scenarios that exist, and ids are unique", () => {
    const errs = validateReport(mutated((r) => {
      r.gates[0]!.scenario = "nope";
      r.gates[1]!.id = r.gates[2]!.id;
    }));
    expect(errs.join("\n")).toMatch(/gates\[0\]\.scenario: .*nope/);
    expect(errs.join("\n")).toMatch(/duplicate gate id/);
  });

  test("series samples are checked", () => {
    const errs = validateReport(mutated((r) => {
      r.series!.memory[3]!.rssBytes = Number.NaN;
      r.series!.markers = [{ tMs: -5, label: "x" }];
    }));
    expect(errs.join("\n")).toMatch(/series\.memory\[3\]\.rssBytes/);
    expect(errs.join("\n")).toMatch(/series\.markers\[0\]\.tMs/);
  });
});
