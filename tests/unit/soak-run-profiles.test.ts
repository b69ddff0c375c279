import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { loadSoakProfiles, resolveProfile, validateSoakProfiles } from "../../src/harness/soak-run/profiles.js";

const shipped = JSON.parse(readFileSync("load/soak-profiles.json", "utf8")) as unknown;

describe("soak-run profiles", () => {
  test("the shipped load/soak-profiles.json is valid and has the 2h and 4h presets at about 2 requests a minute", () => {
    const r = validateSoakProfiles(shipped, "load/soak-profiles.json");
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (!r.ok) return;
    for (const name of ["2h", "4h"]) {
      const p = resolveProfile(r.profiles, name);
      expect(p.ok).toBe(true);
      if (!p.ok) continue;
      expect(p.profile.durationMs).toBe(Number(name.slice(0, -1)) * 3_600_000);
      expect(p.profile.ratePerSecond! * 60).toBeCloseTo(2, 5);
      expect(p.profile.concurrency).toBe(1);
    }
  });

  test("the default gates hold the issue's limits: memory growth < 20%, failures < 5%, p95 < 2 x p50 with K bad windows, canary unchanged", () => {
    const r = validateSoakProfiles(shipped, "f");
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const p = resolveProfile(r.profiles, null);
    if (!p.ok) throw new Error(p.error);
    expect(Object.values(p.profile.gates).join(" ")).toMatch(/memory_growth_pct < 20/);
    expect(p.profile.gates["failure-rate"]).toBe("failure_rate < 0.05");
    expect(p.profile.gates.canary).toBe("canary_changed == 0");
    expect(p.profile.verdict.latency.maxRatio).toBe(2);
    expect(p.profile.gates["latency-stability"]).toMatch(/latency_max_consecutive_bad <= \d/);
  });

  test("a preset overrides the defaults field by field and can drop a default gate with null", () => {
    const raw = {
      defaults: { rate: "5/s", concurrency: 3, window: "60s", gates: { a: "failure_rate < 0.05", b: "canary_changed == 0" } },
      presets: { quick: { duration: "90s", window: "5s", gates: { b: null, c: "latency.p95 < 500" }, server: { env: { GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST: "512" } } } },
    };
    const r = validateSoakProfiles(raw, "f");
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const p = resolveProfile(r.profiles, "quick");
    if (!p.ok) throw new Error(p.error);
    expect(p.profile).toMatchObject({ name: "quick", durationMs: 90_000, windowMs: 5000, ratePerSecond: 5, concurrency: 3 });
    expect(p.profile.gates).toEqual({ a: "failure_rate < 0.05", c: "latency.p95 < 500" });
    expect(p.profile.server.env).toEqual({ GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST: "512" });
    expect(p.profile.memoryIntervalMs).toBe(500);
  });

  test("every problem is reported at once, with the path and a suggestion", () => {
    const r = validateSoakProfiles({
      defaults: { rat: "5/s", window: "5 minutes", gates: { leak: "memory_grwth_pct < 20" }, workload: { temperature: 0 } },
      presets: { x: { duration: "4d" } },
    }, "soak.json");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const all = r.errors.join("\n");
    expect(all).toMatch(/soak\.json: \$\.defaults\.rat: unknown field \(did you mean "rate"\?\)/);
    expect(all).toMatch(/\$\.defaults\.window: .*90s, 10m, 4h/);
    expect(all).toMatch(/did you mean "memory_growth_pct"/);
    expect(all).toMatch(/\$\.defaults\.workload\.temperature: .*cache/);
    expect(all).toMatch(/\$\.presets\.x\.duration/);
  });

  test("an unknown preset names the known ones", () => {
    const r = validateSoakProfiles(shipped, "f");
    if (!r.ok) throw new Error("invalid");
    const p = resolveProfile(r.profiles, "3h");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error).toMatch(/2h.*4h/);
  });

  test("loadSoakProfiles reads DIR/soak-profiles.json and reports a missing file", async () => {
    const ok = await loadSoakProfiles("load");
    expect(ok.ok).toBe(true);
    const missing = await loadSoakProfiles("/nonexistent-dir");
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.errors[0]).toMatch(/soak-profiles\.json: cannot be read/);
  });
});
