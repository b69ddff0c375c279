import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SOURCES, runReportCommand } from "../../src/cli/report.js";
import { exampleReport, toJunitXml, toMarkdown } from "../../src/harness/report/index.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) }, out, err };
}

describe("gauntlet report", () => {
  test("renders md, junit and html from a run directory's report.json", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-report-"));
    await writeFile(join(dir, "report.json"), JSON.stringify(exampleReport()));
    const c = capture();
    expect(await runReportCommand([dir], c.io)).toBe(0);
    expect(await readFile(join(dir, "report.md"), "utf8")).toBe(toMarkdown(exampleReport()));
    expect(await readFile(join(dir, "junit.xml"), "utf8")).toBe(toJunitXml(exampleReport()));
    expect(await readFile(join(dir, "report.html"), "utf8")).toMatch(/<html/);
    expect((await readdir(dir)).sort()).toEqual(["junit.xml", "report.html", "report.json", "report.md"]);
    expect(c.out[0]).toMatch(/rendered report\.md, junit\.xml, report\.html .* \(verdict fail\)/);
  });

  test("refuses an invalid report.json with its problems (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-report-"));
    await writeFile(join(dir, "report.json"), JSON.stringify({ ...exampleReport(), verdict: "maybe" }));
    const c = capture();
    expect(await runReportCommand([dir], c.io)).toBe(2);
    expect(c.err.join("\n")).toMatch(/is not a valid report:\n  \$\.verdict: expected one of/);
  });

  test("is a usage error without exactly one directory or with a directory without report.json", async () => {
    const c = capture();
    expect(await runReportCommand([], c.io)).toBe(2);
    expect(await runReportCommand(["a", "b"], c.io)).toBe(2);
    expect(await runReportCommand([await mkdtemp(join(tmpdir(), "gauntlet-report-"))], c.io)).toBe(2);
    expect(c.err.at(-1)).toMatch(/has no report\.json/);
  });

  test("takes the report from the first source that has one", async () => {
    const c = capture();
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-report-"));
    const journal = { name: "journal", load: async () => ({ report: exampleReport(), notes: ["rebuilt from journal"] }) };
    expect(await runReportCommand([dir], c.io, [{ name: "none", load: async () => null }, journal])).toBe(0);
    expect(await readFile(join(dir, "report.md"), "utf8")).toContain("chat-soak-1h");
    expect(c.out[0]).toBe("gauntlet report: rebuilt from journal");
  });

  test("a source that fails in an unexpected way is a clear error with exit 2, not a crash", async () => {
    const c = capture();
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-report-"));
    const broken = { name: "journal", load: async () => { throw new Error("disk on fire"); } };
    expect(await runReportCommand([dir], c.io, [broken])).toBe(2);
    expect(c.err.join("\n")).toMatch(/gauntlet report: cannot rebuild the report of .*: disk on fire/);
  });

  test("the default sources rebuild from a soak journal before trusting report.json", () => {
    expect(SOURCES.map((s) => s.name)).toEqual(["journal.jsonl", "report.json"]);
  });
});
