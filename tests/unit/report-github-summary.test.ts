import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { GITHUB_SUMMARY_LIMIT_BYTES, appendGithubSummary } from "../../src/harness/report/github-summary.js";

const dir = mkdtempSync(join(tmpdir(), "gauntlet-summary-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("report-github-summary", () => {
  test("appends the markdown after existing content, newline-terminated", async () => {
    const file = join(dir, "a.md");
    writeFileSync(file, "earlier step\n");
    await appendGithubSummary("# ✅ PASS", file);
    await appendGithubSummary("# ❌ FAIL\n", file);
    expect(readFileSync(file, "utf8")).toBe("earlier step\n# ✅ PASS\n# ❌ FAIL\n");
  });

  test("creates the file when it does not exist", async () => {
    const file = join(dir, "new.md");
    await appendGithubSummary("hello", file);
    expect(readFileSync(file, "utf8")).toBe("hello\n");
  });

  test("truncates at a line boundary to stay under GitHub's 1 MiB limit, saying so", async () => {
    const file = join(dir, "big.md");
    const line = `| ✅ | ${"x".repeat(90)} |\n`;
    await appendGithubSummary(line.repeat(20_000), file);
    const out = readFileSync(file, "utf8");
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(GITHUB_SUMMARY_LIMIT_BYTES);
    expect(out).toMatch(/\n> ⚠️ Summary truncated to fit GitHub's 1 MiB limit; see report\.md for the rest\.\n$/);
    expect(out.split("\n").slice(0, -3).every((l) => l === line.trimEnd())).toBe(true);
  });

  test("refuses an empty path instead of writing somewhere unexpected", async () => {
    await expect(appendGithubSummary("x", "")).rejects.toThrow(/path/);
  });
});
