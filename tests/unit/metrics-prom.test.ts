import { register as globalRegister } from "prom-client";
import { describe, expect, test } from "vitest";
import { parseExposition, sampleValue, sumSamples } from "../../src/observability/exposition.js";
import { createPromMetrics, METRIC_NAMES, type GaugeSources } from "../../src/observability/prom-metrics.js";

function sources(over: Partial<GaugeSources> = {}): GaugeSources {
  return {
    pool: () => ({ slots: 2, busy: 1, waiting: 3 }),
    inFlight: () => 4,
    modelLoaded: () => true,
    degradedReasons: () => [],
    ...over,
  };
}

const scrape = async (m: ReturnType<typeof createPromMetrics>) => parseExposition(await m.registry.metrics());

describe("createPromMetrics", () => {
  test("every documented gauntlet_ metric is exposed before any traffic, counters at zero", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    const text = await m.registry.metrics();
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    const s = parseExposition(text);
    expect(sumSamples(s, "gauntlet_requests_total")).toBe(0);
    expect(sampleValue(s, "gauntlet_requests_total", { outcome: "success", finish_reason: "stop" })).toBe(0);
    expect(sampleValue(s, "gauntlet_requests_total", { outcome: "rejected", finish_reason: "none" })).toBe(0);
    for (const c of ["gauntlet_cache_hits_total", "gauntlet_cache_misses_total", "gauntlet_cache_recoveries_total", "gauntlet_retries_total", "gauntlet_prompt_tokens_total"]) {
      expect(sampleValue(s, c)).toBe(0);
    }
    expect(sampleValue(s, "gauntlet_cache_corruptions_total", { reason: "checksum-mismatch" })).toBe(0);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(0);
  });

  test("counts cache disk errors by operation and code, unknown codes folded into other", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    m.cache.ioError("put", "EIO");
    m.cache.ioError("put", "EIO");
    m.cache.ioError("get", "ETIMEDOUT");
    m.cache.ioError("get", "EWEIRD_1");
    const s = await scrape(m);
    expect(sampleValue(s, "gauntlet_cache_io_errors_total", { op: "put", code: "EIO" })).toBe(2);
    expect(sampleValue(s, "gauntlet_cache_io_errors_total", { op: "get", code: "ETIMEDOUT" })).toBe(1);
    expect(sampleValue(s, "gauntlet_cache_io_errors_total", { op: "get", code: "other" })).toBe(1);
  });

  test("uses a fresh registry per instance and never the global one", async () => {
    const a = createPromMetrics({ sources: sources(), processMetrics: true });
    const b = createPromMetrics({ sources: sources(), processMetrics: true });
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegister);
    a.retries.inc();
    expect(sampleValue(await scrape(a), "gauntlet_retries_total")).toBe(1);
    expect(sampleValue(await scrape(b), "gauntlet_retries_total")).toBe(0);
    expect(await globalRegister.metrics()).not.toContain("gauntlet_");
  });

  test("a finished request feeds the counters and histograms in base units", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    m.observeQueueTime(2);
    m.observeTimeToFirstToken(30);
    m.recordRequest({ outcome: "success", finishReason: "length", promptTokens: 12, completionTokens: 8, cachedPromptTokens: 5, e2eMs: 250 });
    m.recordRequest({ outcome: "rejected", finishReason: null, promptTokens: null, completionTokens: null, cachedPromptTokens: null, e2eMs: null });
    m.observeInterToken(4);
    const s = await scrape(m);
    expect(sampleValue(s, "gauntlet_requests_total", { outcome: "success", finish_reason: "length" })).toBe(1);
    expect(sampleValue(s, "gauntlet_requests_total", { outcome: "rejected", finish_reason: "none" })).toBe(1);
    expect(sampleValue(s, "gauntlet_prompt_tokens_total")).toBe(12);
    expect(sampleValue(s, "gauntlet_generation_tokens_total")).toBe(8);
    expect(sampleValue(s, "gauntlet_prompt_tokens_cached_total")).toBe(5);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_sum")).toBeCloseTo(0.03, 9);
    expect(sampleValue(s, "gauntlet_e2e_request_latency_seconds_sum")).toBeCloseTo(0.25, 9);
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_sum")).toBeCloseTo(0.002, 9);
    expect(sampleValue(s, "gauntlet_inter_token_latency_seconds_sum")).toBeCloseTo(0.004, 9);
    expect(sampleValue(s, "gauntlet_request_prompt_tokens_sum")).toBe(12);
    expect(sampleValue(s, "gauntlet_request_generation_tokens_count")).toBe(1);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_bucket", { le: "0.04" })).toBe(1);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_bucket", { le: "0.02" })).toBe(0);
  });

  test("queue time and TTFT are observed for requests that then fail, and never from the finished-request record", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    // A request that got a slot and a first token, then timed out: both histograms count it.
    m.observeQueueTime(7);
    m.observeTimeToFirstToken(40);
    m.recordRequest({ outcome: "timeout", finishReason: null, promptTokens: null, completionTokens: null, cachedPromptTokens: null, e2eMs: 900 });
    // One that got a slot and was aborted before its first token: queue time only.
    m.observeQueueTime(3);
    m.recordRequest({ outcome: "aborted", finishReason: null, promptTokens: null, completionTokens: null, cachedPromptTokens: null, e2eMs: null });
    const s = await scrape(m);
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_count")).toBe(2);
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_sum")).toBeCloseTo(0.01, 9);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(1);
    // E2E, token counters and token histograms stay success-only (vLLM counts finished requests only).
    expect(sampleValue(s, "gauntlet_e2e_request_latency_seconds_count")).toBe(0);
    expect(sampleValue(s, "gauntlet_generation_tokens_total")).toBe(0);
    expect(sampleValue(s, "gauntlet_prompt_tokens_cached_total")).toBe(0);
  });

  test("negative or non-finite durations are ignored, zero is observed", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    m.observeQueueTime(-1);
    m.observeQueueTime(Number.NaN);
    m.observeTimeToFirstToken(Number.POSITIVE_INFINITY);
    m.observeQueueTime(0);
    const s = await scrape(m);
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_count")).toBe(1);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(0);
  });

  test("HELP texts say where TTFT, E2E and queue time start: at the request's arrival", async () => {
    const text = await createPromMetrics({ sources: sources(), processMetrics: false }).registry.metrics();
    const help = (name: string) => new RegExp(`^# HELP ${name} (.*)$`, "m").exec(text)?.[1] ?? "";
    for (const name of ["gauntlet_time_to_first_token_seconds", "gauntlet_e2e_request_latency_seconds", "gauntlet_request_queue_time_seconds"]) {
      expect(help(name)).toMatch(/from a request's arrival/i);
    }
    expect(help("gauntlet_prompt_tokens_cached_total")).toMatch(/KV/);
  });

  test("the circuit breaker and memory guard metrics are listed in METRIC_NAMES", () => {
    for (const name of [
      "gauntlet_cache_breaker_state",
      "gauntlet_memory_guard_state",
      "gauntlet_cache_breaker_transitions_total",
      "gauntlet_memory_guard_clears_total",
      "gauntlet_memory_guard_rejections_total",
      "gauntlet_prompt_tokens_cached_total",
    ]) {
      expect(METRIC_NAMES).toContain(name);
    }
  });

  test("gauges read their sources at scrape time", async () => {
    let waiting = 3;
    const m = createPromMetrics({ sources: sources({ pool: () => ({ slots: 2, busy: 2, waiting }) }), processMetrics: false });
    let s = await scrape(m);
    expect(sampleValue(s, "gauntlet_requests_waiting")).toBe(3);
    expect(sampleValue(s, "gauntlet_requests_running")).toBe(1);
    expect(sampleValue(s, "gauntlet_slots_busy")).toBe(2);
    expect(sampleValue(s, "gauntlet_slots")).toBe(2);
    expect(sampleValue(s, "gauntlet_model_loaded")).toBe(1);
    waiting = 0;
    s = await scrape(m);
    expect(sampleValue(s, "gauntlet_requests_waiting")).toBe(0);
    expect(sampleValue(s, "gauntlet_requests_running")).toBe(4);
  });

  test("a server whose model is loading reports zeros and model_loaded 0", async () => {
    const m = createPromMetrics({ sources: sources({ pool: () => null, inFlight: () => 0, modelLoaded: () => false }), processMetrics: false });
    const s = await scrape(m);
    expect(sampleValue(s, "gauntlet_model_loaded")).toBe(0);
    expect(sampleValue(s, "gauntlet_slots_busy")).toBe(0);
    expect(sampleValue(s, "gauntlet_requests_running")).toBe(0);
  });

  test("the cache API counts hits, misses, corruptions by reason and recoveries, and sets entries and bytes", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    m.cache.hit();
    m.cache.hit();
    m.cache.miss();
    m.cache.corruption("checksum-mismatch");
    m.cache.corruption("something/with /abs/path and spaces");
    m.cache.recovered();
    m.cache.setEntries(5, 4096);
    const s = await scrape(m);
    expect(sampleValue(s, "gauntlet_cache_hits_total")).toBe(2);
    expect(sampleValue(s, "gauntlet_cache_misses_total")).toBe(1);
    expect(sampleValue(s, "gauntlet_cache_corruptions_total", { reason: "checksum-mismatch" })).toBe(1);
    // Unknown reasons are folded into "other": bounded label values, no paths in labels.
    expect(sampleValue(s, "gauntlet_cache_corruptions_total", { reason: "other" })).toBe(1);
    expect(s.some((x) => x.labels.reason?.includes("/"))).toBe(false);
    expect(sampleValue(s, "gauntlet_cache_recoveries_total")).toBe(1);
    expect(sampleValue(s, "gauntlet_cache_entries")).toBe(5);
    expect(sampleValue(s, "gauntlet_cache_bytes")).toBe(4096);
  });

  test("degraded is 1 when set through the API or reported by its source", async () => {
    let sourceSays = false;
    const m = createPromMetrics({ sources: sources({ degradedReasons: () => (sourceSays ? ["the model failed to load"] : []) }), processMetrics: false });
    expect(sampleValue(await scrape(m), "gauntlet_degraded")).toBe(0);
    m.setDegraded(true);
    expect(sampleValue(await scrape(m), "gauntlet_degraded")).toBe(1);
    m.setDegraded(false);
    sourceSays = true;
    expect(sampleValue(await scrape(m), "gauntlet_degraded")).toBe(1);
  });

  test("registers the process metrics under their standard names, without the non-counter _total gauges", async () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: true });
    const s = await scrape(m);
    expect(sampleValue(s, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sampleValue(s, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(s.some((x) => x.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(s.some((x) => x.name === "process_open_fds")).toBe(true);
    expect(s.some((x) => x.name === "nodejs_active_handles_total")).toBe(false);
  });

  test("counters refuse to go down", () => {
    const m = createPromMetrics({ sources: sources(), processMetrics: false });
    expect(() => m.retries.inc(-1)).toThrow();
  });
});
