/**
 * A soak's report.html in headless Chromium: the memory chart carries the leak verdict's fitted
 * line and its slope-interval band over the post-warm-up span (with the warm-up boundary), the
 * canary lane has its own latency-over-time chart and the judged latency-stability ratios their
 * chart with the limit; every chart draws with no script error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import type { EnvironmentInfo, RunReport } from "../../src/harness/report/index.js";
import { chartCount, toHtml } from "../../src/harness/report/html.js";
import { gateDefs, metaLifetime, metaStart } from "../../src/harness/soak-run/meta.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import type { SoakProfile } from "../../src/harness/soak-run/profile-types.js";
import { runSegment } from "../../src/harness/soak-run/run-loop.js";
import { createFakeClock, createSimulatedServer } from "../../src/harness/soak-run/simulated.js";
import { buildSoakReport } from "../../src/harness/soak-run/soak-report.js";
import { createSoakState } from "../../src/harness/soak-run/state.js";
import { computeVerdict } from "../../src/harness/soak-run/verdict.js";
import { chromium, render, requireChromium } from "../helpers/chromium.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };
const SCREENSHOTS = fileURLToPath(new URL("../../reports/screenshots/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "gauntlet-soak-html-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function leakingSoak(): Promise<RunReport> {
  const p: SoakProfile = { ...BUILTIN_PROFILE, windowMs: 5000, ratePerSecond: 10, concurrency: 4, memoryIntervalMs: 500, durationMs: 60_000, gates: { "memory-growth": "memory_growth_pct < 20 || memory_growth_pct_low <= 0", canary: "canary_changed == 0" } };
  const sim = createSimulatedServer({ seed: 21, noiseBytes: 300_000, leakBytesPerRequest: 150_000, leakInExternal: true, warmupBytes: 20e6, warmupRequests: 60, promptCost: true });
  const start = metaStart({ name: "leak", startedAt: new Date("2025-01-01T00:00:00Z"), toolVersion: "0", plannedDurationMs: 60_000, profile: p, target: { kind: "bundled", args: [], env: {} }, gates: gateDefs(p, []), environment: ENV });
  const state = createSoakState(start);
  state.add(metaLifetime(1, 0, new Date(), "start", { pid: 1, command: null, model: null, memory: "rss+heap+external", memoryNote: "simulated" }));
  const r = await runSegment(
    { profile: p, model: null, lifetime: 1, startRunMs: 0, endRunMs: 60_000, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
    { clock: createFakeClock(), send: sim.send, readMemory: sim.readMemory, wallClock: () => new Date("2025-01-01T00:01:00Z"), onWindow: async (w) => state.add(w) },
  );
  state.add({ type: "end", atMs: r.endRunMs, at: "2025-01-01T00:01:00.000Z" });
  const snap = state.snapshot();
  return buildSoakReport(snap, computeVerdict(snap));
}

describe("a soak's report.html in headless Chromium", () => {
  test("draws the fitted line with its band on the memory chart, the canary's and the stability chart, with no script error", async (ctx) => {
    requireChromium(ctx);
    const report = await leakingSoak();
    expect(report.verdict).toBe("fail");
    const file = join(work, "soak.html");
    writeFileSync(file, toHtml(report));
    const { dom, body, console } = render(work, pathToFileURL(file).href);
    expect(console).toEqual([]);
    expect(body["data-errors"]).toBeUndefined();
    expect(body["data-charts-drawn"]).toBe(String(chartCount(report)));
    expect(chartCount(report)).toBe(2 + 4);
    expect(dom.match(/<line class="fit"/g)).toHaveLength(1);
    expect(dom.match(/<polygon class="fit-band"/g)).toHaveLength(1);
    expect(dom).toContain("RSS (judged)");
    expect(dom).toContain("warm-up end");
    expect(dom).toContain("soak-canary — latency over time (ms)");
    expect(dom).toContain("Latency stability: p95 / p50 per latency window");
    expect(dom).toMatch(/<line class="limit"/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    chromium(work, `--screenshot=${join(SCREENSHOTS, "soak-report.png")}`, "--window-size=1280,2800", pathToFileURL(file).href);
  }, 120_000);
});
