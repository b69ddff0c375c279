import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { chartCount, toHtml } from "../../src/harness/report/html.js";
import type { RunReport } from "../../src/harness/report/types.js";
import { chromium as runChromium, render as renderPage, requireChromium } from "../helpers/chromium.js";

const SCREENSHOTS = fileURLToPath(new URL("../../reports/screenshots/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "gauntlet-chromium-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const chromium = (...args: string[]) => runChromium(work, ...args);
const render = (url: string) => renderPage(work, url);

function writePage(name: string, report: RunReport): string {
  const file = join(work, `${name}.html`);
  writeFileSync(file, toHtml(report));
  return pathToFileURL(file).href;
}

/** The body's attributes; the page must not have written anything to its console. */
function renderedBody(url: string): Record<string, string> {
  const r = render(url);
  expect(r.console).toEqual([]);
  return r.body;
}

function hostile(): RunReport {
  const r = exampleReport();
  const evil = `</script><script>document.body.dataset.pwned="1"</script><img src=x onerror="document.body.dataset.pwned='2'"><!-- \u2028`;
  r.name = evil;
  r.scenarios[0]!.name = evil;
  r.scenarios[0]!.notes.push(evil);
  for (const g of r.gates) if (g.scenario === "chat-stream") g.scenario = evil;
  r.gates[0]!.expression = evil;
  r.series!.markers = [{ tMs: 60_000, label: evil }];
  return r;
}

describe("the Chromium harness itself", () => {
  test("catches what a page writes to its console, and the page cannot reach the network", (ctx) => {
    requireChromium(ctx);
    const file = join(work, "probe.html");
    writeFileSync(
      file,
      `<!doctype html><body><script>
        console.error("probe-console-line");
        const img = new Image();
        img.onload = () => document.body.dataset.net = "reached";
        img.onerror = () => document.body.dataset.net = "blocked";
        img.src = "http://example.com/favicon.ico?" + Date.now();
      </script></body>`,
    );
    const r = chromium("--virtual-time-budget=5000", "--dump-dom", pathToFileURL(file).href);
    expect(r.console.join("\n")).toContain("probe-console-line");
    expect(r.stdout).toContain('data-net="blocked"');
  });
});

describe("report.html in headless Chromium", () => {
  test("the example report draws every chart with no script error", (ctx) => {
    requireChromium(ctx);
    const report = exampleReport();
    const body = renderedBody(writePage("example", report));
    expect(body["data-charts-drawn"]).toBe(String(chartCount(report)));
    expect(body["data-charts-drawn"]).toBe("4");
    expect(body["data-errors"]).toBeUndefined();
  });

  test("hostile strings neither break the charts nor run injected script", (ctx) => {
    requireChromium(ctx);
    const report = hostile();
    const { dom, body } = render(writePage("hostile", report));
    expect(body["data-charts-drawn"]).toBe(String(chartCount(report)));
    expect(body["data-errors"]).toBeUndefined();
    expect(body["data-pwned"]).toBeUndefined();
    // No element was injected (the CSP would also block their scripts, but escaping must hold on its own).
    expect(dom.match(/<script\b/g)).toHaveLength(2);
    expect(dom).not.toMatch(/<img\b/);
  });

  test("a report without series or samples draws zero charts cleanly", (ctx) => {
    requireChromium(ctx);
    const { series: _s, baseline: _b, ...rest } = exampleReport();
    const report: RunReport = { ...rest, verdict: "invalid", invalidReasons: ["harness event-loop delay p99 180 ms"], scenarios: [], gates: [] };
    const body = renderedBody(writePage("empty", report));
    expect(body["data-charts-drawn"]).toBe("0");
    expect(body["data-errors"]).toBeUndefined();
  });

  test("a screenshot of the example report is a non-trivial 1280x1600 PNG", (ctx) => {
    requireChromium(ctx);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const png = join(SCREENSHOTS, "report-example.png");
    rmSync(png, { force: true });
    chromium(`--screenshot=${png}`, "--window-size=1280,1600", writePage("shot", exampleReport()));
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(bytes.readUInt32BE(16)).toBe(1280);
    expect(bytes.readUInt32BE(20)).toBe(1600);
    // A blank or single-colour page of this size compresses to a few KB; text and charts do not.
    expect(statSync(png).size).toBeGreaterThan(40_000);
  });
});
