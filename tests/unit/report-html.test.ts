import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { CHART_SCRIPT } from "../../src/harness/report/html-chart-script.js";
import { chartCount, embedJson, toHtml } from "../../src/harness/report/html.js";
import type { RunReport } from "../../src/harness/report/types.js";

const EVIL = "</script><script>alert(1)</script><!-- <SCRIPT>alert(2)</SCRIPT> \u2028 &amp; \"'";

function hostile(): RunReport {
  const r = exampleReport();
  r.name = EVIL;
  r.scenarios[0]!.name = EVIL;
  r.scenarios[0]!.description = EVIL;
  r.scenarios[0]!.notes = [EVIL];
  r.scenarios[0]!.errorsByKind = { [EVIL]: 1 };
  for (const g of r.gates) if (g.scenario === "chat-stream") g.scenario = EVIL;
  r.gates[0]!.expression = EVIL;
  r.gates[0]!.detail = EVIL;
  r.gates[0]!.values = { [EVIL]: 1 };
  r.environment.config = { prompt: EVIL };
  r.series!.markers = [{ tMs: 1000, label: EVIL }];
  return r;
}

function dataOf(html: string): unknown {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

describe("report-html", () => {
  test("is one self-contained document: no external scripts, styles, fonts or images", () => {
    const html = toHtml(exampleReport());
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/\s(src|href)\s*=\s*["']?(?!#)/i);
    expect(html).not.toMatch(/<link\b|@import|url\(|<img\b|<iframe\b/i);
    expect(html).toContain("<style>");
  });

  test("a content security policy allows only the chart script, by hash, and no network", () => {
    const html = toHtml(exampleReport());
    const hash = createHash("sha256").update(CHART_SCRIPT).digest("base64");
    expect(html).toContain(`default-src 'none'`);
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(html).toContain(`<script>${CHART_SCRIPT}</script>`);
    expect(CHART_SCRIPT).not.toMatch(/<\/script|<!--/i);
  });

  test("embeds the report JSON so that it parses back to the same report", () => {
    const r = exampleReport();
    expect(dataOf(toHtml(r))).toEqual(r);
  });

  test("hostile strings cannot close the script element or inject markup", () => {
    const r = hostile();
    const html = toHtml(r);
    expect(html.match(/<script/gi)).toHaveLength(2);
    expect(html).not.toContain("<!--");
    expect(html).not.toContain("alert(1)</script>");
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(dataOf(html)).toEqual(r);
  });

  test("embedJson escapes <, >, & and line separators", () => {
    const s = embedJson({ a: "</script><!--&\u2028\u2029" });
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual({ a: "</script><!--&\u2028\u2029" });
  });

  test("shows the verdict banner and one row per gate, red first", () => {
    const html = toHtml(exampleReport());
    expect(html).toMatch(/<header class="banner fail">[\s\S]*FAIL/);
    const rows = [...html.matchAll(/<tr class="gate (pass|fail|unavailable)">/g)].map((m) => m[1]);
    expect(rows).toEqual(["fail", "unavailable", "pass", "pass", "pass", "pass"]);
    const invalid = toHtml({ ...exampleReport(), verdict: "invalid", invalidReasons: ["harness lagged"] });
    expect(invalid).toMatch(/<header class="banner invalid">[\s\S]*INVALID[\s\S]*harness lagged/);
  });

  test("has a latency table per scenario", () => {
    const html = toHtml(exampleReport());
    expect(html).toMatch(/<h3>chat-stream<\/h3>[\s\S]*<td>E2E latency<\/td><td>430<\/td><td>688<\/td><td>860<\/td>/);
    expect(html).toContain("<h3>embeddings</h3>");
  });

  test("chartCount counts one bar chart per scenario with samples plus the memory and latency time series", () => {
    expect(chartCount(exampleReport())).toBe(4);
    const r = exampleReport();
    r.scenarios[1]!.latencyMs = { count: 0, min: null, max: null, mean: null, stddev: null, p50: null, p90: null, p95: null, p99: null, p999: null };
    delete r.series;
    expect(chartCount(r)).toBe(1);
    expect(toHtml(r)).toContain('data-expected-charts="1"');
  });
});
