/** POST /v1/chat/completions: OpenAI-compatible, streamed (SSE) or not. */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../../errors.js";
import type { GenerateResult } from "../../engine/types.js";
import type { GenerationRecord } from "../../observability/request-observer.js";
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

/** What the request observer logs and measures: counts and timings, never text. */
function generationRecord(r: GenerateResult, t: RequestTimings): GenerationRecord {
  return { promptTokens: r.promptTokens, completionTokens: r.completionTokens, finishReason: r.finishReason, queueMs: t.queueMs, ttftMs: t.ttftMs, totalMs: t.totalMs };
}

function timingsBody(t: RequestTimings) {
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return { queue_ms: round(t.queueMs), ttft_ms: round(t.ttftMs), total_ms: round(t.totalMs), tokens_per_second: round(t.tokensPerSecond) };
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
    deps.stats.begin();
    const started = performance.now();
    let ok = false;
    try {
      if (!chat.stream) {
        const { result, timings } = await inference.run({ messages: chat.messages, params: chat.params, sessionId: request.sessionId, signal, onCacheStatus });
        request.observation.generation = generationRecord(result, timings);
        ok = true;
        return {
          ...base,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason }],
          usage: usage(result),
          timings: timingsBody(timings),
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
          { messages: chat.messages, params: chat.params, sessionId: request.sessionId, signal, onCacheStatus },
          (c) => {
            start();
            raw.write(chunk({ content: c.text }, null));
          },
        );
        request.observation.generation = generationRecord(result, timings);
        start();
        raw.write(chunk({}, result.finishReason, { timings: timingsBody(timings) }));
        if (chat.includeUsage) {
          raw.write(sseData({ ...base, object: "chat.completion.chunk", choices: [], usage: usage(result) }));
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
          if (apiErr.status >= 500 && !(err instanceof ApiError)) request.log.error({ err: { type: (err as Error).name } }, "generation failed mid-stream");
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
      throw err;
    } finally {
      deps.stats.end({ ok, latencyMs: performance.now() - started, cacheHit });
    }
  });
}
