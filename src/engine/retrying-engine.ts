/**
 * An Engine decorator that retries transient engine failures with exponential backoff and jitter
 * (100, 200, 400 ms by default), but never once a token has gone to the client: a retry then would
 * send the client a second, different beginning.
 *
 * What is transient is decided here, at the boundary, from what the engine really throws. node-llama-cpp
 * 3.22.1 rejects a failed native decode with a plain Error whose message is the addon's own text
 * (llama/addon/AddonContext.cpp): llama_decode found no free KV slot for the batch, or failed otherwise.
 * The engine clears the slot's sequence after such a failure (src/engine/llama-engine-slot.ts), so the next
 * attempt starts from a clean state and usually succeeds. "No sequences left" (LlamaContext.getSequence)
 * means every sequence was taken for a moment. Everything else (a prompt too long, a disposed context while
 * shutting down, an abort, a model that cannot generate) fails the same way every time and is not retried.
 */
import { TransientEngineError } from "../errors.js";
import { retryWithBackoff, type RetryOptions } from "../resilience/backoff.js";
import type { Engine } from "./types.js";

/** Messages of node-llama-cpp 3.22.1 failures that a retry can cure (matched exactly). */
export const TRANSIENT_NATIVE_MESSAGES: readonly string[] = [
  "could not find a KV slot for the batch (try reducing the size of the batch or increase the context)",
  "Eval has failed",
  'Unknown error when calling "llama_decode"',
  "No sequences left",
];

const TRANSIENT = new Set(TRANSIENT_NATIVE_MESSAGES);

/** Whether a generation that failed with `err` (before any token was sent) may be tried again. */
export function isTransientEngineFailure(err: unknown): boolean {
  if (err instanceof TransientEngineError) return true;
  return err instanceof Error && err.name === "Error" && TRANSIENT.has(err.message);
}

export interface RetryingEngineOptions extends Pick<RetryOptions, "retries" | "baseMs" | "jitter" | "random" | "sleep" | "maxDelayMs"> {
  /** Called before each retry (metrics: retries counter). */
  onRetry?: (attempt: number, delayMs: number, err: unknown) => void;
}

export function createRetryingEngine(inner: Engine, opts: RetryingEngineOptions): Engine {
  return {
    ...bindAll(inner),
    async generate(req, onChunk) {
      let emitted = false;
      return retryWithBackoff(
        () =>
          inner.generate(req, (chunk) => {
            emitted = true;
            onChunk?.(chunk);
          }),
        {
          retries: opts.retries,
          baseMs: opts.baseMs,
          jitter: opts.jitter,
          random: opts.random,
          sleep: opts.sleep,
          maxDelayMs: opts.maxDelayMs,
          signal: req.signal,
          isRetryable: (err) => !emitted && isTransientEngineFailure(err),
          onRetry: opts.onRetry,
        },
      );
    },
  };
}

/** The inner engine's own methods, bound, so optional members stay present or absent as they were. */
export function bindAll(inner: Engine): Engine {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(inner) as Array<keyof Engine>) {
    const v = inner[key];
    if (typeof v === "function") out[key] = (v as (...a: unknown[]) => unknown).bind(inner);
  }
  return out as unknown as Engine;
}
