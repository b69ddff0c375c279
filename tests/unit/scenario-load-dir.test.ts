import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadDefinitions, parseJsonFile, selectScenarios } from "../../src/harness/scenarios/load-dir.js";

async function loadDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gauntlet-load-"));
  await mkdir(join(dir, "scenarios"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const scenario = (name: string, extra: object = {}) =>
  JSON.stringify({ name, description: "d", requests: 4, connections: 1, prompt: "p {i}", distinctPrompts: 4, maxTokens: 4, ...extra });

describe("loadDefinitions", () => {
  test("the built-in load directory is valid and holds the issue's scenarios", async () => {
    const r = await loadDefinitions("load", "load");
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (!r.ok) return;
    expect(r.defs.scenarios.map((s) => s.name).sort()).toEqual(
      ["concurrent-10", "concurrent-20", "intermittent-faults", "same-prompt-30", "sequential-100", "streaming", "varying-sizes"],
    );
    expect(r.defs.thresholds.defaults).toEqual({ "latency-spread": "p95 < 2 * p50", "memory-growth": "memory_growth_pct < 20", success: "success_rate >= 0.90" });
    const faults = r.defs.scenarios.find((s) => s.name === "intermittent-faults");
    expect(faults?.server.env.GAUNTLET_DEBUG_FAULT_RATE).toBe("0.05");
  });

  test("collects the problems of every file, with line and column for broken JSON", async () => {
    const dir = await loadDir({
      "scenarios/a.json": scenario("a", { connections: 0 }),
      "scenarios/b.json": "{\n  \"name\": \"b\",\n  oops\n}",
      "thresholds.json": JSON.stringify({ defaults: { x: "p95 <" } }),
    });
    const r = await loadDefinitions(dir, "load");
    expect(r.ok).toBe(false);
    const text = r.ok ? "" : r.errors.join("\n");
    expect(text).toMatch(/load\/scenarios\/a\.json: \$\.connections: must be an integer from 1 to 1000, got 0/);
    expect(text).toMatch(/load\/scenarios\/b\.json: not valid JSON at line 3, column 3/);
    expect(text).toMatch(/load\/thresholds\.json: \$\.defaults\.x: /);
  });

  test("flags a threshold table for a scenario that does not exist", async () => {
    const dir = await loadDir({ "scenarios/alpha.json": scenario("alpha"), "thresholds.json": JSON.stringify({ defaults: {}, scenarios: { alpah: {} } }) });
    const r = await loadDefinitions(dir, "load");
    expect(!r.ok && r.errors.join("\n")).toMatch(/\$\.scenarios\.alpah: names no scenario in load\/scenarios \(did you mean "alpha"\?\)/);
  });

  test("says where scenarios go when the directory is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-load-"));
    const r = await loadDefinitions(dir, "mine");
    expect(!r.ok && r.errors.join("\n")).toMatch(/mine\/scenarios: no such directory/);
  });
});

describe("parseJsonFile", () => {
  test("returns the value of valid JSON", () => {
    expect(parseJsonFile("[1]", "f.json")).toEqual({ ok: true, value: [1] });
  });
});

describe("selectScenarios", () => {
  const all = [{ name: "one", tags: ["quick"] }, { name: "two", tags: [] }] as never[];

  test("picks by name in the order given, or by tag without names", () => {
    expect(selectScenarios(all, ["two", "one"])).toMatchObject({ ok: true, scenarios: [{ name: "two" }, { name: "one" }] });
    expect(selectScenarios(all, [], "quick")).toMatchObject({ ok: true, scenarios: [{ name: "one" }] });
  });

  test("refuses an unknown name with a suggestion and the known names", () => {
    expect(selectScenarios(all, ["onee"])).toEqual({ ok: false, error: 'unknown scenario "onee" (did you mean "one"?); known: one, two' });
  });
});
