import { describe, expect, test } from "vitest";
import { parseCategories, parseFormat } from "../../src/observability/json-query.js";
import { createServerMetrics, type ServerMetricsOptions } from "../../src/observability/server-metrics.js";
import type { GaugeSources } from "../../src/observability/prom-metrics.js";

const MiB = 1024 * 1024;
const idle: GaugeSources = { pool: () => ({ slots: 2, busy: 0, waiting: 0 }), inFlight: () => 0, modelLoaded: () => true, degradedReasons: () => [] };

function make(over: Partial<ServerMetricsOptions> = {}) {
  let t = 0;
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  const m = createServerMetrics({
    sources: idle,
    now: clock.now,
    wallClock: () => Date.UTC(2030, 0, 2, 3, 4, 5),
    memoryReader: () => ({ rssBytes: 100 * MiB, heapUsedBytes: 20 * MiB, externalBytes: 3 * MiB }),
    processMetrics: false,
    ...over,
  });
  return { m, clock };
}

const ok = (e2eMs: number) => ({ outcome: "success" as const, finishReason: "stop", promptTokens: 5, completionTokens: 3, cachedPromptTokens: 0, e2eMs });
const failed = (outcome: "rejected" | "aborted" | "timeout", e2eMs: number | null = null) =>
  ({ outcome, finishReason: null, promptTokens: null, completionTokens: null, cachedPromptTokens: null, e2eMs });

describe("ServerMetrics.json", () => {
  test("zero traffic gives zeros, not nulls or errors", () => {
    const { m } = make();
    const j = m.json();
    expect(j.timestamp).toBe("2030-01-02T03:04:05.000Z");
    expect(j.uptime_seconds).toBe(0);
    expect(j.degraded).toBe(false);
    expect(j.cache).toEqual({ hits: 0, misses: 0, hit_rate: 0 });
    expect(j.latency?.e2e).toEqual({ count: 0, p50: 0, p95: 0, p99: 0 });
    expect(j.latency?.ttft).toEqual({ count: 0, p50: 0, p95: 0, p99: 0 });
    expect(j.throughput).toEqual({ total_requests: 0, requests_per_second: 0, window_seconds: 60 });
    expect(j.requests).toEqual({ running: 0, waiting: 0, failed: 0 });
    expect(j.memory).toMatchObject({ rss_mb: 100, heap_used_mb: 20, external_mb: 3, growth_pct: 0, baseline_rss_mb: null });
  });

  test("requests feed latency percentiles, throughput and failures", () => {
    const { m, clock } = make();
    clock.advance(10_000);
    for (let i = 1; i <= 10; i++) {
      m.observeTimeToFirstToken(i);
      m.recordRequest(ok(i * 10));
    }
    m.recordRequest(failed("rejected"));
    m.observeQueueTime(1);
    m.recordRequest(failed("aborted"));
    const j = m.json();
    expect(j.uptime_seconds).toBe(10);
    expect(j.latency?.e2e).toEqual({ count: 10, p50: 50, p95: 100, p99: 100 });
    expect(j.latency?.ttft).toEqual({ count: 10, p50: 5, p95: 10, p99: 10 });
    expect(j.latency?.window_seconds).toBe(60);
    expect(j.latency?.estimator).toMatch(/nearest-rank/);
    expect(j.throughput?.total_requests).toBe(12);
    expect(j.throughput?.requests_per_second).toBeCloseTo(1.2, 3);
    expect(j.requests?.failed).toBe(2);
  });

  test("TTFT counts every request that got a first token, also one that then timed out; E2E only successes", () => {
    const { m } = make();
    m.observeTimeToFirstToken(4);
    m.recordRequest(ok(50));
    m.observeTimeToFirstToken(8);
    m.recordRequest(failed("timeout", 900));
    const j = m.json();
    expect(j.latency?.ttft).toMatchObject({ count: 2, p99: 8 });
    expect(j.latency?.e2e).toMatchObject({ count: 1, p99: 50 });
    expect(j.requests?.failed).toBe(1);
  });

  test("cache hits and misses give the hit rate", () => {
    const { m } = make();
    m.cache.hit();
    m.cache.hit();
    m.cache.hit();
    m.cache.miss();
    expect(m.json().cache).toEqual({ hits: 3, misses: 1, hit_rate: 0.75 });
  });

  test("running and waiting come from the live sources", () => {
    const { m } = make({ sources: { ...idle, pool: () => ({ slots: 1, busy: 1, waiting: 2 }), inFlight: () => 3 } });
    expect(m.json().requests).toEqual({ running: 1, waiting: 2, failed: 0 });
  });

  test("a memory reader that throws gives null memory fields, degraded true, and no exception", () => {
    const { m } = make({
      memoryReader: () => {
        throw new Error("EIO reading /proc/self/statm");
      },
    });
    const j = m.json();
    expect(j.memory).toEqual({ rss_mb: null, heap_used_mb: null, external_mb: null, peak_rss_mb: null, baseline_rss_mb: null, growth_pct: null });
    expect(j.degraded).toBe(true);
    expect(j.degraded_reasons).toEqual(["memory reading failed"]);
    expect(JSON.stringify(j)).not.toContain("/proc");
  });

  test("a failing memory reading sets gauntlet_degraded to 1 too, also when the JSON category list leaves memory out", async () => {
    let fail = true;
    const { m } = make({
      memoryReader: () => {
        if (fail) throw new Error("EIO");
        return { rssBytes: 100 * MiB, heapUsedBytes: 20 * MiB, externalBytes: 3 * MiB };
      },
    });
    const gauge = async () => /^gauntlet_degraded (\S+)$/m.exec(await m.prometheus())?.[1];
    expect(await gauge()).toBe("1");
    expect(m.json(["cache"])).toMatchObject({ degraded: true, degraded_reasons: ["memory reading failed"] });
    fail = false;
    expect(await gauge()).toBe("0");
    expect(m.json()).toMatchObject({ degraded: false, degraded_reasons: [] });
  });

  test("degraded also follows setDegraded", () => {
    const { m } = make();
    m.setDegraded(true);
    expect(m.json()).toMatchObject({ degraded: true, degraded_reasons: ["degraded mode"] });
  });

  test("degraded also lists the reasons its sources give", () => {
    const { m } = make({ sources: { ...idle, degradedReasons: () => ["the model failed to load"] } });
    expect(m.json()).toMatchObject({ degraded: true, degraded_reasons: ["the model failed to load"] });
  });

  test("a category list keeps only those categories next to the envelope", () => {
    const { m } = make();
    const j = m.json(["cache", "latency"]);
    expect(Object.keys(j).sort()).toEqual(["cache", "degraded", "degraded_reasons", "latency", "timestamp", "uptime_seconds"]);
  });
});

describe("parseCategories", () => {
  test("absent means every category", () => {
    expect(parseCategories(undefined)).toEqual({ ok: true, categories: ["cache", "latency", "memory", "throughput", "requests"] });
  });

  test("accepts a comma list or repeated parameters, without duplicates", () => {
    expect(parseCategories("cache,latency")).toEqual({ ok: true, categories: ["cache", "latency"] });
    expect(parseCategories(["memory", "cache,memory"])).toEqual({ ok: true, categories: ["memory", "cache"] });
  });

  test("an unknown or empty category is an error that lists the valid ones", () => {
    const r = parseCategories("cache,bogus");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/bogus.*cache, latency, memory, throughput, requests/);
    expect(parseCategories("").ok).toBe(false);
  });
});

describe("parseFormat", () => {
  test("defaults to json and accepts prometheus", () => {
    expect(parseFormat(undefined)).toEqual({ ok: true, format: "json" });
    expect(parseFormat("prometheus")).toEqual({ ok: true, format: "prometheus" });
    expect(parseFormat("json")).toEqual({ ok: true, format: "json" });
  });

  test("anything else is an error that lists the valid formats", () => {
    const r = parseFormat("xml");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/json, prometheus/);
    expect(parseFormat(["json", "json"]).ok).toBe(false);
  });
});
