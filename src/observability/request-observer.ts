/**
 * Watches every request to its end, exactly once: feeds the metrics for inference routes and writes
 * one summary line per request (status, tokens, timings, cache hit, finish_reason, method, route;
 * never text). A request ends at onSend for ordinary replies, at `observation.finish()` for routes
 * that hijack the reply to stream, and at the socket's close for anything that never got there (a
 * client that went away).
 */
import { performance } from "node:perf_hooks";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../errors.js";
import { classifyOutcome } from "./outcome.js";
import type { RequestContext } from "./request-context.js";
import type { ServerMetrics } from "./server-metrics.js";

/** What a route learnt about its generation. Durations in ms from the start of inference. */
export interface GenerationRecord {
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
  queueMs: number;
  ttftMs: number | null;
  totalMs: number;
}

export interface RequestObservation {
  generation: GenerationRecord | null;
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
        queueMs: g?.queueMs ?? null,
        ttftMs: g?.ttftMs ?? null,
        e2eMs: g?.totalMs ?? null,
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
        queueMs: round(g?.queueMs),
        ttftMs: round(g?.ttftMs),
        totalMs: round(g?.totalMs),
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
    request.observation = {
      generation: null,
      errorCode: null,
      aborted: false,
      cacheHit: false,
      finish: () => finish(reply.raw.statusCode),
    };
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
