/** POST /v1/chat/completions: OpenAI-compatible, streamed (SSE) or not. */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../../errors.js";
import type { GenerateResult } from "../../engine/types.js";
import type { GenerationRecord, RequestObservation } from "../../observability/request-observer.js";
import { ClientAbortError, type InferenceService, type RequestTimings } from "../inference.js";
import { toApiError } from "../plugins/error-handler.js";
import { parseChatRequest, type ChatLimits } from "../schemas/chat.js";
import { sseData, sseDone, sseEvent } from "../sse.js";
import type { RequestStats } from "../stats.js";

export interface ChatRouteDeps {
  inference: () => InferenceService | null;
  modelId: () => string;
  limits: ChatLimits;
  stats: RequestStats;
  bodyLimitBytes: number;
}

function usage(r: GenerateResult) {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    prompt_tokens_details: { cached_tokens: r.cachedTokens },
  };
}

/** What the request observer logs and measures: counts, never text. */
function generationRecord(r: GenerateResult): GenerationRecord {
  return { promptTokens: r.promptTokens, completionTokens: r.completionTokens, cachedPromptTokens: r.cachedTokens, finishReason: r.finishReason };
}

/**
 * The response's own `timings` (as llama.cpp's server adds them): queue, TTFT and total from the request's
 * arrival on the observer's clock, so queue_ms <= ttft_ms <= total_ms. An answer from the response cache
 * never waits for a slot: queue_ms 0. tokens_per_second is the generation rate after the first token.
 */
function timingsBody(o: RequestObservation, t: RequestTimings) {
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return { queue_ms: round(o.queueMs ?? 0), ttft_ms: round(o.ttftMs), total_ms: round(o.e2eMs ?? 0), tokens_per_second: round(t.tokensPerSecond) };
}

/** Aborts when the client closes the connection before the response is complete. */
function clientSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) ac.abort(new ClientAbortError("the client closed the connection"));
  });
  request.raw.once("aborted", () => ac.abort(new ClientAbortError("the client aborted the request")));
  return ac.signal;
}

export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDeps): void {
  app.post("/v1/chat/completions", async (request, reply) => {
    const inference = deps.inference();
    if (!inference) throw new ApiError("model_not_ready", "the model is still loading; retry in a few seconds", { retryAfterSeconds: 2 });
    const chat = parseChatRequest(request.body, deps.limits);
    const id = `chatcmpl-${randomUUID().replaceAll("-", "")}`;
    const created = Math.floor(Date.now() / 1000);
    const model = deps.modelId();
    const signal = clientSignal(request, reply);
    const base = { id, created, model, system_fingerprint: null };

    reply.header("x-cache-hit", "false");
    let cacheHit: boolean | undefined;
    const onCacheStatus = (hit: boolean) => {
      cacheHit = hit;
      request.observation.cacheHit = hit;
      reply.header("x-cache-hit", String(hit));
    };
    // Queue time and TTFT are recorded when they happen, so requests that fail later still count.
    const onSlot = () => request.observation.slotGranted();
    const firstToken = () => request.observation.firstToken();
    deps.stats.begin();
    const started = performance.now();
    let ok = false;
    // Only the server's own failures (5xx, timeouts, engine errors) count against its health; a client's
    // mistake (4xx) or a client that went away does not.
    let serverFault = false;
    try {
      if (!chat.stream) {
        const { result, timings } = await inference.run({ messages: chat.messages, params: chat.params, sessionId: request.sessionId, signal, onCacheStatus, onSlot }, firstToken);
        request.observation.generated(generationRecord(result));
        ok = true;
        return {
          ...base,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason }],
          usage: usage(result),
          timings: timingsBody(request.observation, timings),
        };
      }

      // Streaming: errors before the first byte are ordinary HTTP errors; after it, an SSE error event.
      const raw = reply.raw;
      let started_ = false;
      const usageField = chat.includeUsage ? { usage: null } : {};
      const chunk = (delta: object, finish: string | null, extra: object = {}) =>
        sseData({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField, ...extra });
      const start = () => {
        if (started_) return;
        started_ = true;
        reply.hijack();
        raw.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
          connection: "keep-alive",
        });
        raw.write(chunk({ role: "assistant", content: "" }, null));
      };
      try {
        const { result, timings } = await inference.run(
          { messages: chat.messages, params: chat.params, sessionId: request.sessionId, signal, onCacheStatus, onSlot },
          (c) => {
            firstToken();
            start();
            raw.write(chunk({ content: c.text }, null));
          },
        );
        request.observation.generated(generationRecord(result));
        start();
        // The timings ride on the last chunk before [DONE]: the usage chunk when there is one (as llama.cpp does).
        const last = { timings: timingsBody(request.observation, timings) };
        raw.write(chunk({}, result.finishReason, chat.includeUsage ? {} : last));
        if (chat.includeUsage) {
          raw.write(sseData({ ...base, object: "chat.completion.chunk", choices: [], usage: usage(result), ...last }));
        }
        raw.write(sseDone());
        raw.end();
        ok = true;
      } catch (err) {
        if (!started_) throw err;
        if (err instanceof ClientAbortError || raw.destroyed) request.observation.aborted = true;
        else {
          const apiErr = toApiError(err, deps.bodyLimitBytes);
          request.observation.errorCode = apiErr.code;
          serverFault = apiErr.status >= 500;
          if (apiErr.status >= 500 && !(err instanceof ApiError)) request.log.error({ err }, "generation failed mid-stream");
          raw.write(sseEvent("error", apiErr.toBody()));
        }
        raw.end();
      } finally {
        // A hijacked reply never reaches onSend: end its observation here.
        if (started_) request.observation.finish();
      }
      return reply;
    } catch (err) {
      if (err instanceof ClientAbortError) {
        // Nobody is listening; close quietly (499 in the logs, as nginx does).
        reply.code(499);
        return reply.send();
      }
      serverFault = toApiError(err, deps.bodyLimitBytes).status >= 500;
      throw err;
    } finally {
      deps.stats.end({ ok, failed: serverFault, latencyMs: performance.now() - started, cacheHit });
    }
  });
}
