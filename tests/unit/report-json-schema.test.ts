/**
 * docs/report.schema.json is the published contract of report.json: a real JSON Schema validator (ajv,
 * draft 2020-12) must accept what the writers produce and reject what validateReport rejects.
 */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { validateReport } from "../../src/harness/report/index.js";

const schema = JSON.parse(readFileSync(new URL("../../docs/report.schema.json", import.meta.url), "utf8")) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
const check = ajv.compile(schema);

describe("docs/report.schema.json", () => {
  test("is a valid draft 2020-12 schema that accepts the example report", () => {
    const ok = check(JSON.parse(JSON.stringify(exampleReport())));
    expect(check.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test("carries every metric a gate can name for each scenario, with its value", () => {
    const r = exampleReport();
    for (const s of r.scenarios) {
      expect(s.metrics).toBeDefined();
      expect(Object.keys(s.metrics!)).toEqual(expect.arrayContaining(["p50", "p95", "success_rate", "errors"]));
    }
    expect(check(JSON.parse(JSON.stringify(r)))).toBe(true);
  });

  test.each([
    ["an unknown top-level field", (r: any) => (r.extra = 1)],
    ["a negative count", (r: any) => (r.scenarios[0].requests.ok = -1)],
    ["a verdict outside the enum", (r: any) => (r.verdict = "green")],
    ["a metric that is not a number", (r: any) => (r.scenarios[0].metrics.p50 = "fast")],
  ])("rejects %s, as validateReport does", (_name, mutate) => {
    const r = JSON.parse(JSON.stringify(exampleReport()));
    mutate(r);
    expect(check(r)).toBe(false);
    expect(validateReport(r).length).toBeGreaterThan(0);
  });
});
