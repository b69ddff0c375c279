import { describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { CHART_SCRIPT } from "../../src/harness/report/html-chart-script.js";
import { chartCount, toHtml } from "../../src/harness/report/html.js";
import type { RunReport } from "../../src/harness/report/types.js";
import { validateReport } from "../../src/harness/report/validate.js";

/** The example report with what soak runs add to the series. */
function soakSeries(): RunReport {
  const r = exampleReport();
  r.kind = "soak";
  r.series!.memoryFits = [{ label: "Theil-Sen fit (95% slope interval)", fromMs: 300_000, fromBytes: 500e6, toMs: 3_600_000, toBytes: 520e6, lowToBytes: 510e6, highToBytes: 530e6 }];
  r.series!.lanes = [{ name: "soak-canary", points: [{ tMs: 30_000, p50: 40, p95: 40 }, { tMs: 90_000, p50: 42, p95: 42 }] }];
  r.series!.stability = { maxRatio: 2, classes: [{ label: "prompts of 1 sentence(s)", points: [{ tMs: 60_000, ratio: 1.3 }, { tMs: 120_000, ratio: 2.4 }] }] };
  return r;
}

describe("report-html: soak series", () => {
  test("the series a soak adds are valid report JSON; malformed ones are rejected with their path", () => {
    expect(validateReport(soakSeries())).toEqual([]);
    const bad = soakSeries();
    bad.series!.memoryFits![0]!.toMs = -1;
    (bad.series!.lanes![0] as unknown as Record<string, unknown>).surprise = 1;
    bad.series!.stability!.classes[0]!.points[0]!.ratio = Number.NaN;
    const problems = validateReport(bad).join("\n");
    expect(problems).toMatch(/\$\.series\.memoryFits\[0\]\.toMs: expected a finite number >= 0/);
    expect(problems).toMatch(/\$\.series\.lanes\[0\]\.surprise: is not a property/);
    expect(problems).toMatch(/\$\.series\.stability\.classes\[0\]\.points\[0\]\.ratio: expected a finite number/);
  });

  test("chartCount adds one latency-over-time chart per lane with a value and the stability chart", () => {
    const r = soakSeries();
    expect(chartCount(r)).toBe(chartCount(exampleReport()) + 2);
    r.series!.lanes!.push({ name: "empty", points: [{ tMs: 1, p50: null, p95: null }] });
    expect(chartCount(r)).toBe(chartCount(exampleReport()) + 2);
    r.series!.stability!.classes = [];
    expect(chartCount(r)).toBe(chartCount(exampleReport()) + 1);
    expect(toHtml(r)).toContain(`data-expected-charts="${chartCount(r)}"`);
  });

  test("the chart script draws the fitted line with its band, lane charts and the stability limit", () => {
    expect(CHART_SCRIPT).toContain("memoryFits");
    expect(CHART_SCRIPT).toContain("fit-band");
    expect(CHART_SCRIPT).toContain("series.lanes");
    expect(CHART_SCRIPT).toContain("series.stability");
    expect(CHART_SCRIPT).not.toMatch(/<\/script|<!--/i);
  });
});
