/**
 * Runs one chat generation end to end: waits for a slot (bounded queue), enforces the per-request
 * timeout, aborts on client disconnect, frees the slot only once the engine has really stopped, and
 * measures the request's own timings (monotonic clock).
 */
import { performance } from "node:perf_hooks";
import { ApiError, ContextOverflowError } from "../errors.js";
import type { SlotPool } from "../engine/slot-pool.js";
import type { ChatMessage, Engine, GenerateChunk, GenerateResult, SamplingParams } from "../engine/types.js";

export interface RequestTimings {
  queueMs: number;
  /** From arrival to the first generated text; null when nothing was generated. */
  ttftMs: number | null;
  totalMs: number;
  /** Completion tokens per second of generation (after the first token). */
  tokensPerSecond: number | null;
}

export interface InferenceOutcome {
  result: GenerateResult;
  timings: RequestTimings;
  /** Answered from the response cache (or from an identical request's generation in flight). */
  cacheHit?: boolean;
}

export interface InferenceRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  sessionId?: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Told, before any text, whether the answer comes from the cache (sets X-Cache-Hit). */
  onCacheStatus?: (hit: boolean) => void;
}

export interface InferenceService {
  run(req: InferenceRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<InferenceOutcome>;
}

export interface InferenceOptions {
  engine: Engine;
  pool: SlotPool;
  timeoutMs: number;
  now?: () => number;
  /** Gap in ms between two consecutive generated chunks of one response (inter-token latency). */
  onInterToken?: (ms: number) => void;
  /** Debug lines (slot, timings, token counts; never text). Request ids come from the log context. */
  log?: { debug(obj: object, msg: string): void };
}

export class ClientAbortError extends Error {
  override readonly name = "ClientAbortError";
}

export function createInferenceService(opts: InferenceOptions): InferenceService {
  const now = opts.now ?? (() => performance.now());

  return {
    async run(req, onChunk) {
      const start = now();
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const signal = AbortSignal.any([req.signal, timeout]);
      const timeoutError = () =>
        new ApiError("request_timeout", `the request took longer than the server's limit of ${opts.timeoutMs} ms; ask for fewer tokens or retry`);

      let lease;
      try {
        lease = await opts.pool.acquire({
          signal,
          choose: opts.engine.chooseSlot ? (free) => opts.engine.chooseSlot!(free, req.messages) : undefined,
        });
      } catch (err) {
        if (timeout.aborted && !req.signal.aborted) throw timeoutError();
        if (req.signal.aborted) throw new ClientAbortError("the client went away while queued");
        throw err;
      }

      let ttftAt: number | null = null;
      let lastChunkAt: number | null = null;
      opts.log?.debug({ slot: lease.slot, queueMs: lease.queuedMs }, "generation started");
      try {
        const result = await opts.engine.generate(
          { messages: req.messages, params: req.params, signal, sessionId: req.sessionId, slot: lease.slot },
          (chunk) => {
            const t = now();
            if (ttftAt === null) ttftAt = t;
            if (lastChunkAt !== null) opts.onInterToken?.(t - lastChunkAt);
            lastChunkAt = t;
            onChunk?.(chunk);
          },
        );
        if (result.aborted && timeout.aborted && !req.signal.aborted) throw timeoutError();
        if (result.aborted && req.signal.aborted) throw new ClientAbortError("the client went away during generation");
        const end = now();
        opts.log?.debug(
          { slot: lease.slot, promptTokens: result.promptTokens, completionTokens: result.completionTokens, finishReason: result.finishReason },
          "generation finished",
        );
        const genMs = ttftAt === null ? 0 : end - ttftAt;
        return {
          result,
          timings: {
            queueMs: lease.queuedMs,
            ttftMs: ttftAt === null ? null : ttftAt - start,
            totalMs: end - start,
            tokensPerSecond: result.completionTokens > 1 && genMs > 0 ? ((result.completionTokens - 1) * 1000) / genMs : null,
          },
        };
      } catch (err) {
        if (err instanceof ContextOverflowError) {
          throw new ApiError(
            "context_length_exceeded",
            `the conversation is too long for this model: ${err.message}; shorten the messages or start the server with a larger --context-size`,
            { param: "messages" },
          );
        }
        throw err;
      } finally {
        lease.release();
      }
    },
  };
}
