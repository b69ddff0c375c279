import { Writable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, test } from "vitest";
import { ApiError } from "../../src/errors.js";
import { parseExposition, sampleValue } from "../../src/observability/exposition.js";
import { createRequestContext } from "../../src/observability/request-context.js";
import { registerRequestObserver } from "../../src/observability/request-observer.js";
import { createServerMetrics, type ServerMetrics } from "../../src/observability/server-metrics.js";
import { registerErrorHandler } from "../../src/server/plugins/error-handler.js";

const ROUTE = "/v1/chat/completions";
let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** A fastify app with the observer on a fake monotonic clock; the routes advance the clock. */
async function build(routes: (app: FastifyInstance, advance: (ms: number) => void) => void) {
  let t = 1000;
  const now = () => t;
  const advance = (ms: number) => void (t += ms);
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const context = createRequestContext();
  const metrics: ServerMetrics = createServerMetrics({
    sources: { pool: () => null, inFlight: () => 0, modelLoaded: () => true, degradedReasons: () => [] },
    now,
    processMetrics: false,
    memoryReader: () => ({ rssBytes: 1, heapUsedBytes: 1, externalBytes: 1 }),
  });
  app = Fastify({ logger: { level: "info", stream } });
  context.register(app);
  registerRequestObserver(app, { metrics, context, inferenceRoutes: [ROUTE], now });
  registerErrorHandler(app, 1024);
  routes(app, advance);
  await app.ready();
  const scrape = async () => parseExposition(await metrics.prometheus());
  return { app, metrics, lines, scrape };
}

describe("the request observer's timings", () => {
  test("queue time, TTFT and E2E are measured from the request's arrival, each once", async () => {
    const seen: Array<number | null> = [];
    const { app, scrape, lines } = await build((a, advance) => {
      a.post(ROUTE, async (request) => {
        advance(5);
        request.observation.slotGranted();
        advance(10);
        request.observation.firstToken();
        advance(3);
        request.observation.firstToken(); // a later chunk: not a first token
        advance(17);
        request.observation.generated({ promptTokens: 4, completionTokens: 6, cachedPromptTokens: 2, finishReason: "stop" });
        seen.push(request.observation.queueMs, request.observation.ttftMs, request.observation.e2eMs);
        return { ok: true };
      });
    });
    expect((await app.inject({ method: "POST", url: ROUTE, payload: {} })).statusCode).toBe(200);
    expect(seen).toEqual([5, 15, 35]);
    const s = await scrape();
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_sum")).toBeCloseTo(0.005, 9);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(1);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_sum")).toBeCloseTo(0.015, 9);
    expect(sampleValue(s, "gauntlet_e2e_request_latency_seconds_sum")).toBeCloseTo(0.035, 9);
    expect(sampleValue(s, "gauntlet_prompt_tokens_cached_total")).toBe(2);
    const summary = lines.find((l) => l.msg === "request completed");
    expect(summary).toMatchObject({ outcome: "success", queueMs: 5, ttftMs: 15, totalMs: 35, cachedPromptTokens: 2 });
  });

  test("a request that got a slot and a first token, then timed out, still counts in the queue and TTFT histograms", async () => {
    const { app, scrape, lines } = await build((a, advance) => {
      a.post(ROUTE, async (request) => {
        advance(2);
        request.observation.slotGranted();
        advance(8);
        request.observation.firstToken();
        advance(100);
        throw new ApiError("request_timeout", "too slow");
      });
    });
    expect((await app.inject({ method: "POST", url: ROUTE, payload: {} })).statusCode).toBe(504);
    const s = await scrape();
    expect(sampleValue(s, "gauntlet_requests_total", { outcome: "timeout" })).toBe(1);
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_count")).toBe(1);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(1);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_sum")).toBeCloseTo(0.01, 9);
    expect(sampleValue(s, "gauntlet_e2e_request_latency_seconds_count")).toBe(0);
    expect(lines.find((l) => l.msg === "request completed")).toMatchObject({ outcome: "timeout", queueMs: 2, ttftMs: 10, totalMs: null });
  });

  test("a request refused before it got a slot adds nothing to the queue or TTFT histograms", async () => {
    const { app, scrape } = await build((a) => {
      a.post(ROUTE, async () => {
        throw new ApiError("queue_full", "full");
      });
    });
    expect((await app.inject({ method: "POST", url: ROUTE, payload: {} })).statusCode).toBe(503);
    const s = await scrape();
    expect(sampleValue(s, "gauntlet_requests_total", { outcome: "rejected" })).toBe(1);
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_count")).toBe(0);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(0);
  });

  test("routes that are not inference routes never feed the request histograms", async () => {
    const { app, scrape } = await build((a) => {
      a.get("/other", async (request) => {
        request.observation.slotGranted();
        request.observation.firstToken();
        return { ok: true };
      });
    });
    expect((await app.inject({ method: "GET", url: "/other" })).statusCode).toBe(200);
    const s = await scrape();
    expect(sampleValue(s, "gauntlet_request_queue_time_seconds_count")).toBe(0);
    expect(sampleValue(s, "gauntlet_time_to_first_token_seconds_count")).toBe(0);
  });
});
