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
}

export interface InferenceRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  sessionId?: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface InferenceService {
  run(req: InferenceRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<InferenceOutcome>;
}

export interface InferenceOptions {
  engine: Engine;
  pool: SlotPool;
  timeoutMs: number;
  now?: () => number;
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
      try {
        const result = await opts.engine.generate(
          { messages: req.messages, params: req.params, signal, sessionId: req.sessionId, slot: lease.slot },
          (chunk) => {
            if (ttftAt === null) ttftAt = now();
            onChunk?.(chunk);
          },
        );
        if (result.aborted && timeout.aborted && !req.signal.aborted) throw timeoutError();
        if (result.aborted && req.signal.aborted) throw new ClientAbortError("the client went away during generation");
        const end = now();
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
