import { describe, expect, test } from "vitest";
import { assessValidity } from "../../src/harness/runner/validity.js";
import { DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";

const calm = { scenario: "s", eventLoopDelayP99Ms: 12, sendLatenessP99Ms: null, throughputRps: 40, harnessCapacityRps: 4000, foreignCpuPct: 3 };

describe("assessValidity", () => {
  test("finds nothing wrong with a calm harness far below its capacity", () => {
    expect(assessValidity(calm, DEFAULT_VALIDITY)).toEqual({ invalid: [], notes: [] });
  });

  test("calls the run invalid when the harness's event loop lagged", () => {
    const r = assessValidity({ ...calm, eventLoopDelayP99Ms: 450 }, DEFAULT_VALIDITY);
    expect(r.invalid).toEqual(["s: the harness's event-loop delay p99 was 450 ms (limit 200 ms): the harness could not keep up"]);
  });

  test("calls a rate-limited run invalid when requests were sent late against their schedule", () => {
    const r = assessValidity({ ...calm, sendLatenessP99Ms: 180 }, DEFAULT_VALIDITY);
    expect(r.invalid[0]).toMatch(/s: requests were sent late: lateness p99 180 ms \(limit 100 ms\)/);
  });

  test("calls the run invalid when throughput reached the harness's own capacity", () => {
    const r = assessValidity({ ...calm, throughputRps: 3600 }, DEFAULT_VALIDITY);
    expect(r.invalid[0]).toMatch(/s: 3600 req\/s is 90% of what this harness can drive \(4000 req\/s\): the harness, not the server, was the limit/);
  });

  test("only notes a throughput at half the harness's capacity", () => {
    const r = assessValidity({ ...calm, throughputRps: 2400 }, DEFAULT_VALIDITY);
    expect(r.invalid).toEqual([]);
    expect(r.notes[0]).toMatch(/60% of what this harness can drive/);
  });

  test("calls the run invalid when other processes took much of the machine's CPU", () => {
    expect(assessValidity({ ...calm, foreignCpuPct: 72.4 }, DEFAULT_VALIDITY).invalid).toEqual([
      "s: other processes used 72% of the machine's CPU during the measurement (limit 40%): the latencies say more about them than about the server",
    ]);
    expect(assessValidity({ ...calm, foreignCpuPct: null }, DEFAULT_VALIDITY).invalid).toEqual([]);
  });

  test("a limit of 0 makes any measured delay invalid", () => {
    expect(assessValidity({ ...calm, eventLoopDelayP99Ms: 0.02 }, { ...DEFAULT_VALIDITY, maxEventLoopDelayP99Ms: 0 }).invalid).toHaveLength(1);
    expect(assessValidity({ ...calm, eventLoopDelayP99Ms: 0 }, { ...DEFAULT_VALIDITY, maxEventLoopDelayP99Ms: 0 }).invalid).toHaveLength(1);
    expect(assessValidity({ ...calm, sendLatenessP99Ms: 0 }, { ...DEFAULT_VALIDITY, maxSendLatenessP99Ms: 0 }).invalid).toHaveLength(1);
  });

  test("notes that capacity is unknown instead of guessing", () => {
    expect(assessValidity({ ...calm, harnessCapacityRps: null }, DEFAULT_VALIDITY).notes).toEqual(["s: the harness's own capacity is unknown; run npm run bench:harness"]);
  });
});
