/**
 * The harness's own memory stays flat however long the run: the whole per-window pipeline
 * (sampler, aggregator, journal, fold, verdict) over thousands of windows on a fake clock.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, test } from "vitest";
import type { EnvironmentInfo } from "../../src/harness/report/index.js";
import type { SoakFs } from "../../src/harness/soak/index.js";
import { gateDefs, metaLifetime, metaStart } from "../../src/harness/soak-run/meta.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import type { SoakProfile } from "../../src/harness/soak-run/profile-types.js";
import { runSegment } from "../../src/harness/soak-run/run-loop.js";
import { openSession } from "../../src/harness/soak-run/session.js";
import { createFakeClock, createSimulatedServer } from "../../src/harness/soak-run/simulated.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };

function obtainGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** A file system that accepts and forgets every write (the journal's bytes go nowhere). */
function nullFs(): { fs: SoakFs; bytes: () => number } {
  let bytes = 0;
  const handle = { writeFile: async (d: string | Uint8Array) => void (bytes += d.length), sync: async () => undefined, close: async () => undefined };
  const fs: SoakFs = {
    open: async () => handle,
    readFile: async () => { throw Object.assign(new Error("ENOENT"), { code: "ENOENT" }); },
    rename: async () => undefined,
    unlink: async () => undefined,
  };
  return { fs, bytes: () => bytes };
}

const WINDOWS = 3000;
const PROBE_AT = [300, 1500, WINDOWS];

describe("soak-run memory", () => {
  test("retained state and heap after 3000 windows stay within the caps reached after 300", async () => {
    const gc = obtainGc();
    const profile: SoakProfile = { ...BUILTIN_PROFILE, windowMs: 1000, ratePerSecond: 8, concurrency: 4, memoryIntervalMs: 200, durationMs: WINDOWS * 1000, gates: { "failure-rate": "failure_rate < 0.05" } };
    const sink = nullFs();
    const start = metaStart({ name: "m", startedAt: new Date("2025-01-01T00:00:00Z"), toolVersion: "0", plannedDurationMs: profile.durationMs!, profile, target: { kind: "bundled", args: [], env: {} }, gates: gateDefs(profile, []), environment: ENV });
    const session = await openSession("/nowhere", start, { fs: sink.fs, writeReport: async () => undefined });
    await session.append(metaLifetime(1, 0, new Date(), "start", { pid: 1, command: null, model: null, memory: "rss+heap+external", memoryNote: "sim" }));
    const sim = createSimulatedServer({ seed: 9, noiseBytes: 1e6 });
    const probes: { windows: number; retained: number; heap: number }[] = [];
    let windows = 0;
    const result = await runSegment(
      { profile, model: null, lifetime: 1, startRunMs: 0, endRunMs: profile.durationMs!, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
      {
        clock: createFakeClock(), send: sim.send, readMemory: sim.readMemory,
        onWindow: async (w) => {
          await session.append(w);
          windows++;
          if (PROBE_AT.includes(windows)) {
            session.render();
            gc();
            gc();
            probes.push({ windows, retained: session.state.retainedSize(), heap: process.memoryUsage().heapUsed });
          }
        },
      },
    );
    await session.close();
    expect(result.windows).toBeGreaterThanOrEqual(WINDOWS);
    expect(sink.bytes()).toBeGreaterThan(WINDOWS * 500);
    expect(probes.map((p) => p.windows)).toEqual(PROBE_AT);
    const [early, mid, late] = probes as [typeof probes[0], typeof probes[0], typeof probes[0]];
    // Caps (1024 memory points, 1024 latency points, bucketed histograms, block log sized up front) are reached early.
    expect(late.retained).toBeLessThan(early.retained * 1.5);
    expect(late.retained).toBeLessThan(mid.retained * 1.25);
    // Keeping every memory sample and latency point instead of the capped series grows the heap by ~2.5 MB here.
    expect(late.heap - early.heap).toBeLessThan(1.5 * 1024 * 1024);
  }, 60_000);
});
