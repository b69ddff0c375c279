import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import { parseExposition, sampleValue } from "../../src/observability/exposition.js";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";

const KEY = "sk-json-metrics-secret-key";
const PROMPTS = ["json metrics prompt alpha", "json metrics prompt beta", "json metrics prompt gamma"];
let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 1 });
  s = await startTestServer({ slots: 1, apiKey: KEY }, { listen: true, engine, server: { ownsEngine: false } });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

const auth = { authorization: `Bearer ${KEY}` };
const get = (url: string, headers: Record<string, string> = auth) => s.app.inject({ method: "GET", url, headers });

describe("GET /v1/metrics", () => {
  test("zero traffic gives a 200 of zeros", async () => {
    const fresh = await startTestServer({ slots: 1 }, { engine, server: { ownsEngine: false } });
    try {
      const res = await fresh.app.inject({ method: "GET", url: "/v1/metrics" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      const j = res.json();
      expect(Date.parse(j.timestamp)).not.toBeNaN();
      expect(j.uptime_seconds).toBeGreaterThanOrEqual(0);
      expect(j.degraded).toBe(false);
      expect(j.cache).toEqual({ hits: 0, misses: 0, hit_rate: 0 });
      expect(j.latency.e2e).toEqual({ count: 0, p50: 0, p95: 0, p99: 0 });
      expect(j.latency.ttft).toEqual({ count: 0, p50: 0, p95: 0, p99: 0 });
      expect(j.throughput).toEqual({ total_requests: 0, requests_per_second: 0, window_seconds: 60 });
      expect(j.requests).toEqual({ running: 0, waiting: 0, failed: 0 });
      expect(j.memory.rss_mb).toBeGreaterThan(0);
      expect(j.memory.growth_pct).toBe(0);
    } finally {
      await fresh.app.close();
    }
  });

  test("after real traffic it reports latency percentiles, throughput, failures and memory", async () => {
    for (const p of PROMPTS.slice(0, 2)) {
      expect((await s.app.inject({ method: "POST", url: "/v1/chat/completions", headers: auth, payload: { messages: userMessage(p), max_tokens: 6 } })).statusCode).toBe(200);
    }
    const streamed = await streamChat(s.url, { messages: userMessage(PROMPTS[2]!), max_tokens: 6 }, { headers: auth });
    expect(streamed.done).toBe(true);
    expect((await s.app.inject({ method: "POST", url: "/v1/chat/completions", headers: auth, payload: { messages: [] } })).statusCode).toBe(400);

    const j = (await get("/v1/metrics")).json();
    expect(j.latency.unit).toBe("ms");
    expect(j.latency.window_seconds).toBe(60);
    expect(j.latency.estimator).toMatch(/nearest-rank/);
    expect(j.latency.e2e.count).toBe(3);
    expect(j.latency.ttft.count).toBe(3);
    for (const k of ["p50", "p95", "p99"] as const) {
      expect(j.latency.e2e[k]).toBeGreaterThan(0);
      expect(j.latency.ttft[k]).toBeGreaterThan(0);
      expect(j.latency.ttft[k]).toBeLessThanOrEqual(j.latency.e2e[k]);
    }
    expect(j.latency.e2e.p50).toBeLessThanOrEqual(j.latency.e2e.p95);
    expect(j.latency.e2e.p95).toBeLessThanOrEqual(j.latency.e2e.p99);
    expect(j.throughput.total_requests).toBe(4);
    expect(j.throughput.requests_per_second).toBeGreaterThan(0);
    expect(j.requests.failed).toBe(1);
    expect(j.memory.rss_mb).toBeGreaterThan(0);
    expect(j.memory.heap_used_mb).toBeGreaterThan(0);
    expect(j.memory.external_mb).toBeGreaterThanOrEqual(0);
    expect(j.memory.peak_rss_mb).toBeGreaterThanOrEqual(j.memory.rss_mb);
    expect(typeof j.memory.growth_pct).toBe("number");
    // Nothing in it leaks prompts, keys or paths.
    const body = JSON.stringify(j);
    for (const p of PROMPTS) expect(body).not.toContain(p);
    expect(body).not.toContain(KEY);
    expect(body).not.toContain(process.cwd());
  });

  test("?category= returns only those categories", async () => {
    const j = (await get("/v1/metrics?category=cache,latency")).json();
    expect(Object.keys(j).sort()).toEqual(["cache", "degraded", "degraded_reasons", "latency", "timestamp", "uptime_seconds"]);
  });

  test("an unknown category is a 400 that lists the valid ones", async () => {
    const res = await get("/v1/metrics?category=cache,bogus");
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "invalid_request", param: "category", type: "invalid_request_error" });
    expect(res.json().error.message).toContain("cache, latency, memory, throughput, requests");
  });

  test("?format=prometheus returns the Prometheus text", async () => {
    const res = await get("/v1/metrics?format=prometheus");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sampleValue(parseExposition(res.body), "gauntlet_model_loaded")).toBe(1);
  });

  test("any other format is a 400 that lists the valid ones", async () => {
    const res = await get("/v1/metrics?format=xml");
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "invalid_request", param: "format" });
    expect(res.json().error.message).toContain("json, prometheus");
  });

  test("POST, PUT, DELETE and PATCH get 405 with an Allow header in the OpenAI error shape", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"] as const) {
      const res = await s.app.inject({ method, url: "/v1/metrics", headers: { ...auth, "content-type": "application/json" }, payload: "{}" });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe("GET, HEAD, OPTIONS");
      expect(res.json()).toEqual({ error: { message: expect.stringContaining("GET"), type: "invalid_request_error", param: null, code: "method_not_allowed" } });
    }
  });

  test("GET carries CORS headers", async () => {
    const res = await fetch(`${s.url}/v1/metrics`, { headers: { ...auth, origin: "https://dashboard.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("an OPTIONS preflight is answered without the API key, and the GET still needs it", async () => {
    const pre = await fetch(`${s.url}/v1/metrics`, {
      method: "OPTIONS",
      headers: { origin: "https://dashboard.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-methods")).toContain("GET");
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
    const noKey = await fetch(`${s.url}/v1/metrics`);
    expect(noKey.status).toBe(401);
    // The browser may read the error too.
    expect(noKey.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("a failing memory reading gives null memory fields, degraded true, and still a 200", async () => {
    const broken = await startTestServer(
      { slots: 1 },
      {
        engine,
        server: {
          ownsEngine: false,
          metrics: {
            memoryReader: () => {
              throw new Error(`EIO: cannot read ${process.cwd()}/proc/self/statm`);
            },
          },
        },
      },
    );
    try {
      const res = await broken.app.inject({ method: "GET", url: "/v1/metrics" });
      expect(res.statusCode).toBe(200);
      const j = res.json();
      expect(j.degraded).toBe(true);
      expect(j.degraded_reasons).toContain("memory reading failed");
      expect(j.memory).toEqual({ rss_mb: null, heap_used_mb: null, external_mb: null, peak_rss_mb: null, baseline_rss_mb: null, growth_pct: null });
      expect(j.latency.e2e.count).toBe(0);
      expect(res.body).not.toContain(process.cwd());
      // The Prometheus gauge agrees with the JSON, and so does a JSON view without the memory category.
      const text = (await broken.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(sampleValue(parseExposition(text), "gauntlet_degraded")).toBe(1);
      expect((await broken.app.inject({ method: "GET", url: "/v1/metrics?category=cache" })).json()).toMatchObject({ degraded: true, degraded_reasons: ["memory reading failed"] });
    } finally {
      await broken.app.close();
    }
  });
});

describe("GET /v1/metrics over time, through the real server", () => {
  const chatOnce = (t: TestServer, i: number) =>
    t.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage(`over time ${i}`), max_tokens: 3, temperature: 0.8 } });

  test("growth_pct is measured from the baseline taken after the warm-up requests", async () => {
    const t = await startTestServer({ slots: 1 }, { engine, server: { ownsEngine: false, metrics: { baselineAfterRequests: 3 } } });
    try {
      const memory = async () => (await t.app.inject({ method: "GET", url: "/v1/metrics?category=memory" })).json().memory;
      for (let i = 0; i < 2; i++) expect((await chatOnce(t, i)).statusCode).toBe(200);
      const warming = await memory();
      expect(warming.baseline_rss_mb).toBeNull();
      expect(warming.growth_pct).toBe(0);
      expect((await chatOnce(t, 2)).statusCode).toBe(200);
      const first = await memory();
      expect(first.baseline_rss_mb).toBeGreaterThan(0);
      // More traffic: the baseline stays put and growth is relative to it.
      for (let i = 3; i < 8; i++) expect((await chatOnce(t, i)).statusCode).toBe(200);
      const later = await memory();
      expect(later.baseline_rss_mb).toBe(first.baseline_rss_mb);
      expect(later.growth_pct).toBeCloseTo(((later.rss_mb - later.baseline_rss_mb) / later.baseline_rss_mb) * 100, 1);
      expect(later.peak_rss_mb).toBeGreaterThanOrEqual(later.baseline_rss_mb);
    } finally {
      await t.app.close();
    }
  }, 60_000);

  test("the request rate covers a sliding window: it rises with traffic and falls back to 0 once the window has passed", async () => {
    const t = await startTestServer({ slots: 1 }, { engine, server: { ownsEngine: false, metrics: { windowMs: 1500 } } });
    try {
      const throughput = async () => (await t.app.inject({ method: "GET", url: "/v1/metrics?category=throughput" })).json().throughput;
      for (let i = 0; i < 3; i++) expect((await chatOnce(t, 100 + i)).statusCode).toBe(200);
      const busy = await throughput();
      expect(busy.window_seconds).toBe(1.5);
      expect(busy.total_requests).toBe(3);
      expect(busy.requests_per_second).toBeGreaterThan(0);
      // Liveness bound only: within 10 s the window has slid past the requests.
      const end = Date.now() + 10_000;
      let quiet = await throughput();
      while (quiet.requests_per_second !== 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        quiet = await throughput();
      }
      expect(quiet.requests_per_second).toBe(0);
      expect(quiet.total_requests).toBe(3);
      const latency = (await t.app.inject({ method: "GET", url: "/v1/metrics?category=latency" })).json().latency;
      expect(latency.e2e.count).toBe(0);
    } finally {
      await t.app.close();
    }
  }, 60_000);
});
