import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { toJunitXml } from "../../src/harness/report/junit.js";
import type { RunReport } from "../../src/harness/report/types.js";

const XSD = new URL("../fixtures/junit.xsd", import.meta.url).pathname;
const HAS_XMLLINT = spawnSync("xmllint", ["--version"]).status === 0;
const IN_CI = Boolean(process.env.CI);
const NO_XMLLINT = "xmllint is not installed (apt-get install -y libxml2-utils); required when CI is set";
const dir = mkdtempSync(join(tmpdir(), "gauntlet-junit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function xmllint(xml: string, ...args: string[]): { status: number | null; out: string } {
  const file = join(dir, `j-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync("xmllint", [...args, file], { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function count(xml: string, xpath: string): number {
  return Number(xmllint(xml, "--xpath", xpath).out.trim());
}

function hostile(): RunReport {
  const r = exampleReport();
  const evil = `</script><script>alert(1)</script> & "quotes" 'apos' ]]> \u0000\u0007 \uFFFF \uD800 <!-- x --> \n\t`;
  r.name = evil;
  r.scenarios[0]!.name = evil;
  r.scenarios[0]!.notes.push(evil);
  for (const g of r.gates) if (g.scenario === "chat-stream") g.scenario = evil;
  r.gates[2]!.detail = evil;
  r.gates[2]!.expression = `a < 1 && b > 2 ${evil}`;
  return r;
}

describe("report-junit", () => {
  test("has one testsuite per scenario plus global, and one testcase per gate", () => {
    const xml = toJunitXml(exampleReport());
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    const suites = [...xml.matchAll(/<testsuite name="([^"]*)"/g)].map((m) => m[1]);
    expect(suites).toEqual(["chat-stream", "embeddings", "global"]);
    expect(xml.match(/<testcase /g)).toHaveLength(6);
  });

  test("counts failures, errors and tests on every suite and on the root", () => {
    const xml = toJunitXml(exampleReport());
    expect(xml).toMatch(/<testsuites name="[^"]*" tests="6" failures="1" errors="1" skipped="0"/);
    expect(xml).toMatch(/<testsuite name="chat-stream" tests="3" failures="1" errors="0" skipped="0"/);
    expect(xml).toMatch(/<testsuite name="embeddings" tests="1" failures="0" errors="0"/);
    expect(xml).toMatch(/<testsuite name="global" tests="2" failures="0" errors="1"/);
  });

  test("a red gate has a failure carrying its values and detail", () => {
    const xml = toJunitXml(exampleReport());
    expect(xml).toContain('<failure type="gate" message="success_rate &gt;= 0.999 &amp;&amp; errors == 0: success_rate = 0.9979 · errors = 12">');
    expect(xml).toContain("0.997917 &gt;= 0.999 ✗ &amp;&amp; 12 == 0 ✗");
  });

  test("an unavailable gate is an error by default, or skipped on request", () => {
    const xml = toJunitXml(exampleReport());
    expect(xml).toContain('<error type="unavailable" message="queue.p95 &lt; 50: missing metric: queue.p95">');
    const skipped = toJunitXml(exampleReport(), { unavailableAs: "skipped" });
    expect(skipped).toContain('<skipped message="queue.p95 &lt; 50: missing metric: queue.p95"/>');
    expect(skipped).toMatch(/<testsuites [^>]*errors="0" skipped="1"/);
  });

  test("an invalid run adds an erroring validity testcase listing the reasons", () => {
    const r: RunReport = { ...exampleReport(), verdict: "invalid", invalidReasons: ["harness lagged 900 ms", "clock jumped"] };
    const xml = toJunitXml(r);
    expect(xml).toMatch(/<testcase name="measurement is valid" classname="[^"]*global" time="0">\s*<error type="invalid" message="harness lagged 900 ms; clock jumped">/);
    expect(xml).toMatch(/<testsuite name="global" tests="3" failures="0" errors="2"/);
  });

  test("hostile strings are escaped and invalid XML characters removed", () => {
    const xml = toJunitXml(hostile());
    expect(xml).not.toContain("<script>");
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    expect(xml).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(xml).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;");
  });

  test("the output validates against the Jenkins/Ant JUnit XSD and xmllint counts agree", (ctx) => {
    ctx.skip(!HAS_XMLLINT && !IN_CI, NO_XMLLINT);
    expect(HAS_XMLLINT, NO_XMLLINT).toBe(true);
    const invalid: RunReport = { ...exampleReport(), verdict: "invalid", invalidReasons: ["x"] };
    const cases: [string, RunReport][] = [["example", exampleReport()], ["hostile", hostile()], ["invalid", invalid]];
    for (const [label, report] of cases) {
      const xml = toJunitXml(report);
      const r = xmllint(xml, "--noout", "--schema", XSD);
      expect(r.out, label).toContain("validates");
      expect(r.status, label).toBe(0);
      expect(count(xml, "count(//testcase/failure)")).toBe(report.gates.filter((g) => g.verdict === "fail").length);
      expect(count(xml, "sum(//testsuite/@failures)")).toBe(count(xml, "number(/testsuites/@failures)"));
      expect(count(xml, "sum(//testsuite/@errors)")).toBe(count(xml, "count(//testcase/error)"));
      expect(count(xml, "sum(//testsuite/@tests)")).toBe(count(xml, "count(//testcase)"));
    }
  });

  test("the XSD really rejects malformed JUnit (the validation can fail)", (ctx) => {
    ctx.skip(!HAS_XMLLINT && !IN_CI, NO_XMLLINT);
    expect(HAS_XMLLINT, NO_XMLLINT).toBe(true);
    const bad = toJunitXml(exampleReport()).replace(/ failures="\d+"/, ' failures="-1"');
    expect(xmllint(bad, "--noout", "--schema", XSD).status).not.toBe(0);
  });
});
