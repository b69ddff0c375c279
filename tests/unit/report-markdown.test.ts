import { describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { toMarkdown } from "../../src/harness/report/markdown.js";
import type { RunReport } from "../../src/harness/report/types.js";

function gateRows(md: string): string[] {
  return md.split("\n").filter((l) => /^\| (✅|❌|⚠️) \|/.test(l));
}

describe("report-markdown", () => {
  test("the title shows the overall verdict first", () => {
    const fail = toMarkdown(exampleReport());
    expect(fail.split("\n")[0]).toBe("# ❌ FAIL · soak · chat-soak-1h");
    const pass: RunReport = { ...exampleReport(), verdict: "pass", gates: exampleReport().gates.filter((g) => g.verdict === "pass") };
    expect(toMarkdown(pass).split("\n")[0]).toMatch(/^# ✅ PASS /);
    const invalid: RunReport = { ...exampleReport(), verdict: "invalid", invalidReasons: ["harness event-loop delay p99 was 180 ms"] };
    const md = toMarkdown(invalid);
    expect(md.split("\n")[0]).toMatch(/^# ⚠️ INVALID /);
    expect(md).toContain("- harness event-loop delay p99 was 180 ms");
  });

  test("has one row per gate, red first, with ❌ for failing gates and measured values", () => {
    const rows = gateRows(toMarkdown(exampleReport()));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatch(/^\| ❌ \| chat-stream \| `success_rate >= 0.999 && errors == 0` \| success_rate = 0.9979 · errors = 12/);
    expect(rows[1]).toMatch(/^\| ⚠️ \| \(run\) \| `queue.p95 < 50` \| queue.p95 = missing/);
    expect(rows.slice(2).every((r) => r.startsWith("| ✅ |"))).toBe(true);
  });

  test("summarises the gate counts under the title", () => {
    expect(toMarkdown(exampleReport())).toContain("**1 of 6 gates failed · 1 unavailable · 4 passed**");
  });

  test("has a compact latency table per scenario", () => {
    const md = toMarkdown(exampleReport());
    expect(md).toContain("### chat-stream");
    expect(md).toContain("| E2E latency | 430 | 688 | 860 | 1101 | 1445 | 1651 | 464 | 7200 |");
    expect(md).toContain("| TTFT | 85.0 |");
    expect(md).toContain("### embeddings");
  });

  test("escapes table-breaking and HTML characters from names and expressions", () => {
    const r = exampleReport();
    r.scenarios[0]!.name = "a|b <script>alert(1)</script>";
    r.gates[2]!.scenario = r.scenarios[0]!.name;
    r.gates[2]!.expression = "a < 1 || b`c > 2";
    const md = toMarkdown(r);
    const row = gateRows(md)[0]!;
    expect(row).toContain("a\\|b &lt;script>alert(1)&lt;/script>");
    expect(row).toContain("``a < 1 \\|\\| b`c > 2``");
    expect(md).not.toContain("<script>");
    expect(row.split(/(?<!\\)\|/)).toHaveLength(6);
  });

  test("lists baseline comparisons when present and omits the section otherwise", () => {
    expect(toMarkdown(exampleReport())).toMatch(/## Baseline: main@2025-01-14[\s\S]*\| chat-stream \| ttftMs.p95 \| 140 \| 159.4 \| \+13.9% \| 🔺 worse/);
    const { baseline: _omit, ...noBaseline } = exampleReport();
    expect(toMarkdown(noBaseline as RunReport)).not.toContain("## Baseline");
  });

  test("states the percentile estimator and the metric definitions", () => {
    const md = toMarkdown(exampleReport());
    expect(md).toContain("nearest-rank");
    expect(md).toContain("TTFT: request sent to the first SSE chunk that carries content.");
  });
});
