/**
 * An Engine decorator that retries transient engine errors with exponential backoff and jitter
 * (100, 200, 400 ms by default), but never once a token has gone to the client: a retry then would
 * send the client a second, different beginning.
 */
import { TransientEngineError } from "../errors.js";
import { retryWithBackoff, type RetryOptions } from "../resilience/backoff.js";
import type { Engine } from "./types.js";

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
          isRetryable: (err) => err instanceof TransientEngineError && !emitted,
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
