/**
 * Watches every request to its end, exactly once: feeds the metrics for inference routes and writes
 * one summary line per request (status, tokens, timings, cache hit, finish_reason, method, route;
 * never text). A request ends at onSend for ordinary replies, at `observation.finish()` for routes
 * that hijack the reply to stream, and at the socket's close for anything that never got there (a
 * client that went away).
 *
 * Timings: every duration is taken on one monotonic clock from the request's arrival (its onRequest
 * hook). Queue time and TTFT are recorded when they happen (`slotGranted()`, `firstToken()`), so a
 * request that times out or is aborted later still counts in those histograms.
 */
import { performance } from "node:perf_hooks";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../errors.js";
import { classifyOutcome } from "./outcome.js";
import type { RequestContext } from "./request-context.js";
import type { ServerMetrics } from "./server-metrics.js";

/** What a route learnt about a finished generation: counts, never text. */
export interface GenerationRecord {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens reused from a slot's KV cache. */
  cachedPromptTokens: number;
  finishReason: string;
}

export interface RequestObservation {
  generation: GenerationRecord | null;
  /** ms from arrival to the moment a slot started the request; null until then (or never). */
  queueMs: number | null;
  /** ms from arrival to the first generated text (or the cached answer); null until then. */
  ttftMs: number | null;
  /** ms from arrival to the end of the generation; null unless it completed. */
  e2eMs: number | null;
  /** A generation slot started the request: records its queue time (once). */
  slotGranted(): void;
  /** The first text of the answer is ready: records TTFT (once; later calls are ignored). */
  firstToken(): void;
  /** The generation completed: keeps its counts and its E2E time. */
  generated(g: GenerationRecord): void;
  /** Project error code of a failure the route reported itself (an SSE error event). */
  errorCode: string | null;
  /** The client went away before the response was complete. */
  aborted: boolean;
  /** Served from the response cache (false until the cache is wired in). */
  cacheHit: boolean;
  /** Ends the observation; routes that hijack the reply call it after their last write. */
  finish(): void;
}

declare module "fastify" {
  interface FastifyRequest {
    observation: RequestObservation;
  }
}

export interface RequestObserverOptions {
  metrics: ServerMetrics;
  context: RequestContext;
  /** Routes (as registered, e.g. "/v1/chat/completions") whose requests feed the request metrics. */
  inferenceRoutes: readonly string[];
  now?: () => number;
}

const round = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1000) / 1000);

export function registerRequestObserver(app: FastifyInstance, opts: RequestObserverOptions): void {
  const now = opts.now ?? (() => performance.now());
  const inference = new Set(opts.inferenceRoutes);

  const finishers = new WeakMap<FastifyRequest, (status: number) => void>();

  const end = (request: FastifyRequest, startedAt: number, status: number) => {
    const o = request.observation;
    const g = o.generation;
    const route = request.routeOptions.url ?? null;
    const outcome = classifyOutcome({ status, errorCode: o.errorCode, aborted: o.aborted });
    const isInference = route !== null && inference.has(route);
    if (isInference) {
      opts.metrics.recordRequest({
        outcome,
        finishReason: g?.finishReason ?? null,
        promptTokens: g?.promptTokens ?? null,
        completionTokens: g?.completionTokens ?? null,
        cachedPromptTokens: g?.cachedPromptTokens ?? null,
        e2eMs: o.e2eMs,
      });
    }
    request.log.info(
      {
        method: request.method,
        route,
        status,
        ...(isInference ? { outcome } : {}),
        promptTokens: g?.promptTokens ?? null,
        completionTokens: g?.completionTokens ?? null,
        cachedPromptTokens: g?.cachedPromptTokens ?? null,
        queueMs: round(o.queueMs),
        ttftMs: round(o.ttftMs),
        totalMs: round(o.e2eMs),
        durationMs: round(now() - startedAt),
        cacheHit: o.cacheHit,
        finishReason: g?.finishReason ?? null,
      },
      "request completed",
    );
  };

  app.decorateRequest("observation", null as unknown as RequestObservation);

  app.addHook("onRequest", async (request, reply) => {
    const startedAt = now();
    let done = false;
    const finish = (status: number, aborted = false) => {
      if (done) return;
      done = true;
      if (aborted) request.observation.aborted = true;
      try {
        opts.context.runIn(request, () => end(request, startedAt, status));
      } catch (err) {
        // Observing must never break serving.
        request.log.error({ err }, "recording the request's metrics failed");
      }
    };
    const isInference = () => {
      const route = request.routeOptions.url;
      return route !== undefined && inference.has(route);
    };
    // Observing must never break serving: a metrics failure is logged, never thrown into the route.
    const safely = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        request.log.error({ err }, "recording the request's metrics failed");
      }
    };
    const observation: RequestObservation = {
      generation: null,
      queueMs: null,
      ttftMs: null,
      e2eMs: null,
      errorCode: null,
      aborted: false,
      cacheHit: false,
      slotGranted() {
        if (observation.queueMs !== null) return;
        const ms = now() - startedAt;
        observation.queueMs = ms;
        if (isInference()) safely(() => opts.metrics.observeQueueTime(ms));
      },
      firstToken() {
        if (observation.ttftMs !== null) return;
        const ms = now() - startedAt;
        observation.ttftMs = ms;
        if (isInference()) safely(() => opts.metrics.observeTimeToFirstToken(ms));
      },
      generated(g) {
        observation.generation = g;
        observation.e2eMs = now() - startedAt;
      },
      finish: () => finish(reply.raw.statusCode),
    };
    request.observation = observation;
    reply.raw.once("close", () => finish(reply.raw.statusCode, !reply.raw.writableFinished));
    finishers.set(request, finish);
  });

  app.addHook("onError", async (request, _reply, error) => {
    if (error instanceof ApiError && request.observation) request.observation.errorCode = error.code;
  });

  app.addHook("onSend", async (request, reply) => {
    finishers.get(request)?.(reply.statusCode);
  });
}
