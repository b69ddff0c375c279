import { describe, expect, test } from "vitest";
import { littlesLawCheck } from "../../src/harness/runner/littles-law.js";

describe("littlesLawCheck", () => {
  test("agrees when mean latency is close to connections / throughput", () => {
    const r = littlesLawCheck({ connections: 10, requests: 200, throughputRps: 100, meanLatencyMs: 95 }, 30);
    expect(r).toMatchObject({ status: "ok", expectedMeanMs: 100 });
    expect(r.errorPct).toBeCloseTo(-5, 6);
  });

  test("flags autocannon's stale-timing trap: 100 ms reported where the truth is 4 ms", () => {
    const r = littlesLawCheck({ connections: 4, requests: 5000, throughputRps: 1000, meanLatencyMs: 100 }, 30);
    expect(r.status).toBe("mismatch");
    expect(r.errorPct).toBeCloseTo(2400, 6);
    expect(r.note).toMatch(/mean latency 100 ms but connections \/ throughput gives 4 ms/);
  });

  test("does not judge runs with too few requests per connection to reach a steady state", () => {
    expect(littlesLawCheck({ connections: 30, requests: 30, throughputRps: 10, meanLatencyMs: 1500 }, 30)).toMatchObject({ status: "not-checked" });
  });

  test("does not judge without a throughput or a latency", () => {
    expect(littlesLawCheck({ connections: 2, requests: 100, throughputRps: null, meanLatencyMs: 5 }, 30).status).toBe("not-checked");
    expect(littlesLawCheck({ connections: 2, requests: 100, throughputRps: 10, meanLatencyMs: null }, 30).status).toBe("not-checked");
  });
});
