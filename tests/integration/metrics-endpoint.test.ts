import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withChaos } from "../../src/engine/chaos-engine.js";
import type { Engine } from "../../src/engine/types.js";
import { parseExposition, sampleValue, sumSamples, type Sample } from "../../src/observability/exposition.js";
import { METRIC_NAMES } from "../../src/observability/prom-metrics.js";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";

const KEY = "sk-metrics-endpoint-test-key";
let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 1 });
  s = await startTestServer({ slots: 1, queueMax: 1, apiKey: KEY }, { listen: true, engine, server: { ownsEngine: false } });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

const auth = { authorization: `Bearer ${KEY}` };
const chat = (payload: object, headers: Record<string, string> = auth) => s.app.inject({ method: "POST", url: "/v1/chat/completions", payload, headers });

async function scrape(t: TestServer = s): Promise<Sample[]> {
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("GET /metrics", () => {
  test("answers Prometheus text without the API key, like /health", async () => {
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    const samples = parseExposition(text);
    expect(sampleValue(samples, "gauntlet_model_loaded")).toBe(1);
    expect(sampleValue(samples, "gauntlet_slots")).toBe(1);
    expect(sampleValue(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(samples.some((x) => x.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(samples.some((x) => x.name === "process_open_fds")).toBe(true);
  });

  test("counts real requests by outcome and finish_reason, with tokens and latency histograms", async () => {
    const before = await scrape();
    const usage = { prompt: 0, completion: 0 };
    const a = (await chat({ messages: userMessage("metrics endpoint one"), max_tokens: 5, temperature: 0 })).json();
    usage.prompt += a.usage.prompt_tokens;
    usage.completion += a.usage.completion_tokens;
    const b = await streamChat(s.url, { messages: userMessage("metrics endpoint two"), max_tokens: 6, temperature: 0, stream_options: { include_usage: true } }, { headers: auth });
    const bu = b.chunks.at(-1)!.usage;
    usage.prompt += bu.prompt_tokens;
    usage.completion += bu.completion_tokens;
    expect((await chat({ messages: [] })).statusCode).toBe(400);
    expect((await chat({ messages: userMessage("x") }, {})).statusCode).toBe(401);

    const d = (name: string, labels: Record<string, string> = {}) => async () => sumSamples(await scrape(), name, labels) - sumSamples(before, name, labels);
    expect(await waitFor(d("gauntlet_requests_total", { outcome: "success", finish_reason: "length" }), (v) => v === 2)).toBe(2);
    expect(await d("gauntlet_requests_total", { outcome: "invalid" })()).toBe(1);
    expect(await d("gauntlet_requests_total", { outcome: "unauthorized" })()).toBe(1);
    expect(await d("gauntlet_prompt_tokens_total")()).toBe(usage.prompt);
    expect(await d("gauntlet_generation_tokens_total")()).toBe(usage.completion);
    expect(await d("gauntlet_request_generation_tokens_sum")()).toBe(usage.completion);
    expect(await d("gauntlet_time_to_first_token_seconds_count")()).toBe(2);
    expect(await d("gauntlet_e2e_request_latency_seconds_count")()).toBe(2);
    expect(await d("gauntlet_request_queue_time_seconds_count")()).toBe(2);
    // Each response's chunks after the first give one inter-token gap.
    expect(await d("gauntlet_inter_token_latency_seconds_count")()).toBeGreaterThanOrEqual(usage.completion - 2 - 2);
    expect(await d("gauntlet_e2e_request_latency_seconds_sum")()).toBeGreaterThan(0);
  });

  test("a full queue is counted as rejected and the gauges show the running and waiting requests", async () => {
    const before = await scrape();
    const long = new AbortController();
    let first!: () => void;
    const started = new Promise<void>((r) => (first = r));
    const holder = streamChat(s.url, { messages: userMessage("hold the slot"), max_tokens: 1800, temperature: 0.7 }, { signal: long.signal, headers: auth, onChunk: () => first() }).catch(() => null);
    await started;
    const queued = new AbortController();
    const waiter = fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({ messages: userMessage("wait in line"), max_tokens: 2, temperature: 0.7 }),
      signal: queued.signal,
    }).catch(() => null);
    const busy = await waitFor(scrape, (x) => sampleValue(x, "gauntlet_requests_waiting") === 1);
    expect(sampleValue(busy, "gauntlet_requests_waiting")).toBe(1);
    expect(sampleValue(busy, "gauntlet_requests_running")).toBe(1);
    expect(sampleValue(busy, "gauntlet_slots_busy")).toBe(1);
    const refused = await chat({ messages: userMessage("no room"), max_tokens: 2 });
    expect(refused.statusCode).toBe(503);
    queued.abort();
    long.abort();
    await Promise.all([holder, waiter]);

    const after = await waitFor(scrape, (x) => sampleValue(x, "gauntlet_requests_running") === 0 && sampleValue(x, "gauntlet_requests_waiting") === 0);
    expect(sampleValue(after, "gauntlet_requests_running")).toBe(0);
    expect(sampleValue(after, "gauntlet_slots_busy")).toBe(0);
    const delta = (labels: Record<string, string>) => sumSamples(after, "gauntlet_requests_total", labels) - sumSamples(before, "gauntlet_requests_total", labels);
    expect(delta({ outcome: "rejected" })).toBe(1);
    expect(delta({ outcome: "aborted" })).toBe(2);
  });

  test("the typed API the cache and retry layers report through shows up on /metrics", async () => {
    // Earlier tests sent deterministic requests, which the response cache already counted: compare deltas.
    const before = await scrape();
    const counted = (x: Sample[], name: string, labels: Record<string, string> = {}) => sumSamples(x, name, labels) - sumSamples(before, name, labels);
    s.app.metrics.cache.hit();
    s.app.metrics.cache.miss();
    s.app.metrics.cache.corruption("checksum-mismatch");
    s.app.metrics.cache.recovered();
    s.app.metrics.retries.inc();
    s.app.metrics.setDegraded(true);
    const x = await scrape();
    expect(counted(x, "gauntlet_cache_hits_total")).toBe(1);
    expect(counted(x, "gauntlet_cache_misses_total")).toBe(1);
    expect(counted(x, "gauntlet_cache_corruptions_total", { reason: "checksum-mismatch" })).toBe(1);
    expect(counted(x, "gauntlet_cache_recoveries_total")).toBe(1);
    // The size gauges read the live response cache at scrape time, as GET /cache reports it.
    const live = (await s.app.inject({ method: "GET", url: "/cache", headers: auth })).json().responses;
    expect(live.entries).toBeGreaterThan(0);
    expect(sampleValue(x, "gauntlet_cache_entries")).toBe(live.entries);
    expect(sampleValue(x, "gauntlet_cache_bytes")).toBe(live.bytes);
    expect(counted(x, "gauntlet_retries_total")).toBe(1);
    expect(sampleValue(x, "gauntlet_degraded")).toBe(1);
    s.app.metrics.setDegraded(false);
    expect(sampleValue(await scrape(), "gauntlet_degraded")).toBe(0);
  });

  test("each server instance has its own registry", async () => {
    const other = await startTestServer({ slots: 1 }, { listen: true, engine, server: { ownsEngine: false } });
    try {
      await chat({ messages: userMessage("only on the first server"), max_tokens: 2, temperature: 0 });
      const mine = await scrape();
      const theirs = await scrape(other);
      expect(sumSamples(mine, "gauntlet_requests_total")).toBeGreaterThan(0);
      expect(sumSamples(theirs, "gauntlet_requests_total")).toBe(0);
      expect(sampleValue(theirs, "gauntlet_cache_hits_total")).toBe(0);
    } finally {
      await other.app.close();
    }
  });

  test("requests that time out or are aborted after their first token still count in the queue and TTFT histograms", async () => {
    // The project's chaos engine over the real tiny engine: `[chaos:slow:MS]` sends each chunk MS ms after the last.
    const slow = await startTestServer({ slots: 1, timeoutMs: 1500, retry: { maxRetries: 0 } }, { listen: true, engine: withChaos(engine, { mode: "tagged" }), server: { ownsEngine: false } });
    try {
      const before = await scrape(slow);
      const timedOut = await streamChat(slow.url, { messages: userMessage("[chaos:slow:100] time me out"), max_tokens: 40, temperature: 0.7 });
      expect(timedOut.chunks.length).toBeGreaterThan(1);
      expect(timedOut.messages.some((m) => m.event === "error" && m.data.includes("request_timeout"))).toBe(true);
      const plain = await fetch(`${slow.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: userMessage("[chaos:slow:100] time me out too"), max_tokens: 40, temperature: 0.7 }),
      });
      expect(plain.status).toBe(504);
      const ac = new AbortController();
      await streamChat(slow.url, { messages: userMessage("[chaos:slow:100] abort me"), max_tokens: 40, temperature: 0.7 }, { signal: ac.signal, onChunk: (c) => c.choices?.[0]?.delta?.content && ac.abort() }).catch(() => null);

      const d = (x: Sample[], name: string, labels: Record<string, string> = {}) => sumSamples(x, name, labels) - sumSamples(before, name, labels);
      const after = await waitFor(() => scrape(slow), (x) => d(x, "gauntlet_requests_total") === 3);
      expect(d(after, "gauntlet_requests_total", { outcome: "timeout" })).toBe(2);
      expect(d(after, "gauntlet_requests_total", { outcome: "aborted" })).toBe(1);
      expect(d(after, "gauntlet_request_queue_time_seconds_count")).toBe(3);
      expect(d(after, "gauntlet_time_to_first_token_seconds_count")).toBe(3);
      // E2E and tokens stay success-only.
      expect(d(after, "gauntlet_e2e_request_latency_seconds_count")).toBe(0);
      expect(d(after, "gauntlet_generation_tokens_total")).toBe(0);
      // The JSON window agrees: three TTFTs, no E2E.
      const j = (await slow.app.inject({ method: "GET", url: "/v1/metrics?category=latency" })).json();
      expect(j.latency.ttft.count).toBe(3);
      expect(j.latency.e2e.count).toBe(0);
    } finally {
      await slow.app.close();
    }
  }, 60_000);

  test("slot KV prefix reuse is counted in tokens, as the usage reports it", async () => {
    const before = await scrape();
    let reported = 0;
    // Unseeded sampling is never answered from the response cache: the second request really reuses the slot's KV cache.
    for (let i = 0; i < 2; i++) {
      const r = (await chat({ messages: userMessage("the same conversation twice for KV reuse"), max_tokens: 3, temperature: 0.9 })).json();
      reported += r.usage.prompt_tokens_details.cached_tokens;
    }
    expect(reported).toBeGreaterThan(0);
    const after = await scrape();
    expect(sumSamples(after, "gauntlet_prompt_tokens_cached_total") - sumSamples(before, "gauntlet_prompt_tokens_cached_total")).toBe(reported);
  });

  test("docs/metrics.md documents exactly the metric families a live server exposes, with their types", async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const live = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const documented = documentedMetrics(readFileSync(join(process.cwd(), "docs", "metrics.md"), "utf8"));
    expect(live.size).toBeGreaterThan(40);
    const undocumented = [...live.keys()].filter((n) => !documented.has(n));
    const missing = [...documented.keys()].filter((n) => !live.has(n));
    expect(undocumented, "exposed but not in docs/metrics.md").toEqual([]);
    expect(missing, "in docs/metrics.md but not exposed").toEqual([]);
    const wrongType = [...live].filter(([n, type]) => documented.get(n) !== type).map(([n, type]) => `${n}: ${type} exposed, ${documented.get(n)} documented`);
    expect(wrongType).toEqual([]);
    for (const name of METRIC_NAMES) expect(live.has(name), name).toBe(true);
  });

  test("other methods get 405 with an Allow header in the OpenAI error shape", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"] as const) {
      const res = await s.app.inject({ method, url: "/metrics" });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe("GET, HEAD");
      expect(res.json().error).toMatchObject({ code: "method_not_allowed", type: "invalid_request_error" });
    }
  });
});

/**
 * The metric families docs/metrics.md lists: the first column of every table row in its
 * `GET /metrics` section, typed by the table's heading (Histograms, Counters, Gauges) or, in the
 * process metrics table, by its Type column.
 */
function documentedMetrics(md: string): Map<string, string> {
  const section = md.slice(md.indexOf("## `GET /metrics`"), md.indexOf("## `GET /v1/metrics`"));
  const out = new Map<string, string>();
  let headingType: string | null = null;
  for (const line of section.split("\n")) {
    const heading = /^### (\w+)/.exec(line);
    if (heading) headingType = ({ Histograms: "histogram", Counters: "counter", Gauges: "gauge" } as Record<string, string>)[heading[1]!] ?? null;
    const row = /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (!row) continue;
    const type = headingType ?? row[2]!;
    expect(out.has(row[1]!), `${row[1]} is documented twice`).toBe(false);
    out.set(row[1]!, type);
  }
  return out;
}
