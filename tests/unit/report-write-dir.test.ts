import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { exampleReport } from "../../src/harness/report/example.js";
import { toReportJson } from "../../src/harness/report/json.js";
import { validateReport } from "../../src/harness/report/validate.js";
import { writeReportDir } from "../../src/harness/report/write-dir.js";
import type { ReportFs } from "../../src/harness/report/write-dir.js";

const root = mkdtempSync(join(tmpdir(), "gauntlet-reportdir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `case-${++n}`, "runs", "2025-01-15T10-00-00Z-chat");

describe("report-write-dir", () => {
  test("toReportJson is pretty, newline-terminated and round-trips to a valid report", () => {
    const text = toReportJson(exampleReport());
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "schemaVersion": 1,');
    const back = JSON.parse(text) as unknown;
    expect(back).toEqual(exampleReport());
    expect(validateReport(back)).toEqual([]);
  });

  test("writes the four reports and returns their paths", async () => {
    const dir = fresh();
    const out = await writeReportDir(dir, exampleReport());
    expect(out.files).toEqual({
      json: join(dir, "report.json"), markdown: join(dir, "report.md"), junit: join(dir, "junit.xml"), html: join(dir, "report.html"),
    });
    expect(readdirSync(dir).sort()).toEqual(["junit.xml", "report.html", "report.json", "report.md"]);
    expect(JSON.parse(readFileSync(out.files.json, "utf8"))).toEqual(exampleReport());
    expect(readFileSync(out.files.markdown, "utf8")).toMatch(/^# ❌ FAIL/);
    expect(readFileSync(out.files.junit, "utf8")).toContain("<testsuites ");
    expect(readFileSync(out.files.html, "utf8")).toContain("<!doctype html>");
    expect(out.problems).toEqual([]);
  });

  test("points a relative `latest` symlink in the parent at the newest run", async () => {
    const first = fresh();
    const parent = join(first, "..");
    const second = join(parent, "2025-01-16T10-00-00Z-chat");
    const a = await writeReportDir(first, exampleReport());
    expect(a.latest).toBe(join(parent, "latest"));
    expect(readlinkSync(join(parent, "latest"))).toBe("2025-01-15T10-00-00Z-chat");
    await writeReportDir(second, exampleReport());
    expect(readlinkSync(join(parent, "latest"))).toBe("2025-01-16T10-00-00Z-chat");
    expect(readFileSync(join(parent, "latest", "report.md"), "utf8")).toMatch(/^# /);
    expect(readdirSync(parent).sort()).toEqual(["2025-01-15T10-00-00Z-chat", "2025-01-16T10-00-00Z-chat", "latest"]);
  });

  test("a failure mid-way leaves earlier files intact and no temp files behind", async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "report.json"), "old");
    let writes = 0;
    const failing: ReportFs = {
      mkdir: (p, o) => fsp.mkdir(p, o),
      writeFile: async (p, d) => { if (++writes === 3) throw new Error("disk full"); await fsp.writeFile(p, d); },
      rename: (a, b) => fsp.rename(a, b),
      symlink: (t, p) => fsp.symlink(t, p),
      rm: (p, o) => fsp.rm(p, o),
    };
    await expect(writeReportDir(dir, exampleReport(), { fs: failing })).rejects.toThrow("disk full");
    expect(readdirSync(dir)).toEqual(["report.json"]);
    expect(readFileSync(join(dir, "report.json"), "utf8")).toBe("old");
  });

  test("an inconsistent report is still written, with its problems returned", async () => {
    const dir = fresh();
    const out = await writeReportDir(dir, { ...exampleReport(), verdict: "pass" });
    expect(out.problems.some((p) => p.startsWith("$.verdict"))).toBe(true);
    expect(readdirSync(dir)).toHaveLength(4);
  });

  test("a real directory named latest is left alone and reported", async () => {
    const dir = fresh();
    const parent = join(dir, "..");
    mkdirSync(join(parent, "latest"), { recursive: true });
    writeFileSync(join(parent, "latest", "keep.txt"), "mine");
    const out = await writeReportDir(dir, exampleReport());
    expect(out.latest).toBeNull();
    expect(out.warnings.join()).toContain("latest");
    expect(readFileSync(join(parent, "latest", "keep.txt"), "utf8")).toBe("mine");
    expect(readdirSync(parent).sort()).toEqual(["2025-01-15T10-00-00Z-chat", "latest"]);
  });
});
