/**
 * Runs one chat generation end to end: waits for a slot (bounded queue), enforces the per-request
 * timeout, aborts on client disconnect, frees the slot only once the engine has really stopped, and
 * measures the request's own timings (monotonic clock).
 */
import { performance } from "node:perf_hooks";
import { ApiError, ContextOverflowError } from "../errors.js";
import { linkSignals } from "../resilience/linked-signal.js";
import type { SlotPool } from "../engine/slot-pool.js";
import type { ChatMessage, Engine, GenerateChunk, GenerateResult, SamplingParams } from "../engine/types.js";

export interface RequestTimings {
  queueMs: number;
  /** From the start of inference (after validation) to the first generated text; null when nothing was generated. The route reports arrival-based figures. */
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
  /** Told when a generation slot starts the request (the end of its queue time). */
  onSlot?: () => void;
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
  /** Aborted when the server's shutdown bound runs out: requests still queued or generating get 503 shutting_down. */
  shutdownSignal?: AbortSignal;
  /** Debug lines (slot, timings, token counts; never text). Request ids come from the log context. */
  log?: { debug(obj: object, msg: string): void; warn?(obj: object, msg: string): void };
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
      const shutdown = opts.shutdownSignal;
      // Not AbortSignal.any: on Node 20 it leaks a reference on the long-lived shutdown signal per request.
      const linked = linkSignals(shutdown ? [req.signal, timeout, shutdown] : [req.signal, timeout]);
      const signal = linked.signal;
      try {
        const timeoutError = () =>
          new ApiError("request_timeout", `the request took longer than the server's limit of ${opts.timeoutMs} ms; ask for fewer tokens or retry`);
        const shutdownError = () => new ApiError("shutting_down", "the server is shutting down and stopped this request; retry on another instance");

        let lease;
        try {
          const before = opts.pool.stats();
          const acquiring = opts.pool.acquire({
            signal,
            choose: opts.engine.chooseSlot ? (free) => opts.engine.chooseSlot!(free, req.messages, req.sessionId) : undefined,
          });
          // Queued behind busy slots: get the prompt ready while waiting (off the critical path once a slot frees).
          // Not for a request that gets a slot at once (generation does it anyway) or is refused (queue full).
          if (opts.engine.prepare && before.busy >= before.slots && before.waiting < before.queueMax && !signal.aborted) {
            try {
              opts.engine.prepare(req.messages);
            } catch {
              // Best effort: generation tokenizes again and reports any problem itself.
            }
          }
          lease = await acquiring;
        } catch (err) {
          if (shutdown?.aborted && !req.signal.aborted) throw shutdownError();
          if (timeout.aborted && !req.signal.aborted) throw timeoutError();
          if (req.signal.aborted) throw new ClientAbortError("the client went away while queued");
          throw err;
        }
        req.onSlot?.();

        let ttftAt: number | null = null;
        let lastChunkAt: number | null = null;
        // Set when this request stops waiting for the engine (timeout or client gone): later chunks of an engine
        // that is slow to stop go nowhere.
        let gaveUp = false;
        opts.log?.debug({ slot: lease.slot, queueMs: lease.queuedMs }, "generation started");
        let generation: Promise<GenerateResult>;
        try {
          generation = opts.engine.generate(
            { messages: req.messages, params: req.params, signal, sessionId: req.sessionId, slot: lease.slot },
            (chunk) => {
              if (gaveUp) return;
              const t = now();
              if (ttftAt === null) ttftAt = t;
              if (lastChunkAt !== null) opts.onInterToken?.(t - lastChunkAt);
              lastChunkAt = t;
              onChunk?.(chunk);
            },
          );
        } catch (err) {
          generation = Promise.reject(err);
        }
        try {
          const result = await untilAborted(generation, signal);
          if (result === ABANDONED) {
            // The slot is free only once the engine has really returned: an engine stuck in a call that ignores
            // its signal keeps its slot (it cannot run two generations at once), but never keeps the client.
            gaveUp = true;
            const abandonedAt = now();
            const slot = lease.slot;
            const held = lease;
            void generation.then(noop, noop).then(() => {
              held.release();
              const stuckMs = now() - abandonedAt;
              if (stuckMs > STUCK_WARN_MS) opts.log?.warn?.({ slot, stuckMs: Math.round(stuckMs) }, "the engine returned long after its request was abandoned; the slot is free again");
            });
            if (shutdown?.aborted && !req.signal.aborted) throw shutdownError();
            if (timeout.aborted && !req.signal.aborted) throw timeoutError();
            throw new ClientAbortError("the client went away during generation");
          }
          if (result.aborted && shutdown?.aborted && !req.signal.aborted) throw shutdownError();
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
          if (!gaveUp) lease.release();
        }
      } finally {
        linked.dispose();
      }
    },
  };
}

const noop = () => undefined;
const ABANDONED = Symbol("abandoned");
/** How long past an abort the engine may take to return before its late return is logged. */
const STUCK_WARN_MS = 1000;

/**
 * The generation's result, or ABANDONED as soon as `signal` aborts, whether or not the engine has returned.
 * An engine that honours the signal returns within a token anyway; one that does not no longer holds the client.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABANDONED> {
  if (signal.aborted) return work.then((v) => v, () => ABANDONED);
  return new Promise<T | typeof ABANDONED>((resolve, reject) => {
    const onAbort = () => resolve(ABANDONED);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
