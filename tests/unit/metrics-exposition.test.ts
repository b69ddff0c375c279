import { describe, expect, test } from "vitest";
import { parseExposition, sampleValue, sumSamples } from "../../src/observability/exposition.js";

const TEXT = `# HELP a_total A counter.
# TYPE a_total counter
a_total{outcome="success",finish_reason="stop"} 3
a_total{outcome="error",finish_reason="none"} 0
# HELP g A gauge.
# TYPE g gauge
g 1.5e-3
h_bucket{le="+Inf"} 7
esc{path="a \\"quoted\\" \\\\ back\\nline"} 1
nan_metric Nan
`;

describe("parseExposition", () => {
  test("reads names, labels and values, skipping comments", () => {
    const samples = parseExposition(TEXT);
    expect(samples).toHaveLength(6);
    expect(samples[0]).toEqual({ name: "a_total", labels: { outcome: "success", finish_reason: "stop" }, value: 3 });
    expect(samples[2]).toEqual({ name: "g", labels: {}, value: 0.0015 });
    expect(samples[3]).toEqual({ name: "h_bucket", labels: { le: "+Inf" }, value: 7 });
    expect(samples[4]?.labels.path).toBe('a "quoted" \\ back\nline');
    expect(Number.isNaN(samples[5]?.value)).toBe(true);
  });

  test("sampleValue finds a sample by name and a subset of its labels", () => {
    const samples = parseExposition(TEXT);
    expect(sampleValue(samples, "a_total", { outcome: "error" })).toBe(0);
    expect(sampleValue(samples, "g")).toBe(0.0015);
    expect(sampleValue(samples, "missing")).toBeUndefined();
  });

  test("sumSamples adds every sample of a name that matches the labels", () => {
    const samples = parseExposition(TEXT);
    expect(sumSamples(samples, "a_total")).toBe(3);
    expect(sumSamples(samples, "a_total", { outcome: "success" })).toBe(3);
    expect(sumSamples(samples, "missing")).toBe(0);
  });

  test("a malformed line is an error that names the line", () => {
    expect(() => parseExposition("good 1\nbad{x=1} 2\n")).toThrow(/line 2/);
  });
});
