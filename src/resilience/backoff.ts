/**
 * Retry with exponential backoff: attempt 1, then up to `retries` more attempts, waiting
 * baseMs * factor^(n-1) before retry n (100, 200, 400 ms by default), each delay spread by +/- `jitter`
 * (a ratio 0..1) and capped by maxDelayMs. The caller decides what is retryable (e.g. nothing once the
 * first token reached the client). Sleep, randomness and cancellation are injected.
 */
export interface BackoffOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number | undefined;
  /** Delay before the first retry (default 100 ms). */
  baseMs?: number | undefined;
  /** Growth per retry (default 2). */
  factor?: number | undefined;
  /** Upper bound of one delay (default none). */
  maxDelayMs?: number | undefined;
  /** Each delay becomes delay * (1 +/- jitter * u), u uniform in [0, 1) (default 0). */
  jitter?: number | undefined;
  /** Uniform random in [0, 1) (default Math.random). */
  random?: (() => number) | undefined;
}

export interface RetryOptions extends BackoffOptions {
  /** Whether the error of attempt `attempt` (1-based) may be retried (default: always). */
  isRetryable?: ((err: unknown, attempt: number) => boolean) | undefined;
  /** Waits `ms`; should reject when `signal` aborts (default: a setTimeout-based sleep). */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Called after attempt `attempt` failed, before waiting `delayMs` for the next one. */
  onRetry?: ((attempt: number, delayMs: number, err: unknown) => void) | undefined;
  /** Aborting stops further attempts; the promise then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** The waits before each retry, in order (jitter applied with `random` when jitter > 0). */
export function backoffDelays(opts: BackoffOptions = {}): number[] {
  const p = normalise(opts);
  return Array.from({ length: p.retries }, (_, i) => delayFor(p, i));
}

/**
 * Calls `fn(attempt)` until it resolves, an error is not retryable, the retries are used up (the last error
 * is rethrown as is) or the signal aborts (rejects with the signal's reason).
 */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const p = normalise(opts);
  const sleep = opts.sleep ?? defaultSleep;
  const { signal } = opts;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      signal?.throwIfAborted();
      if (attempt > p.retries || !(opts.isRetryable?.(err, attempt) ?? true)) throw err;
      const delayMs = delayFor(p, attempt - 1);
      opts.onRetry?.(attempt, delayMs, err);
      await sleep(delayMs, signal);
    }
  }
}

interface Params {
  retries: number;
  baseMs: number;
  factor: number;
  maxDelayMs: number;
  jitter: number;
  random: () => number;
}

function normalise(opts: BackoffOptions): Params {
  const p: Params = {
    retries: opts.retries ?? 3,
    baseMs: opts.baseMs ?? 100,
    factor: opts.factor ?? 2,
    maxDelayMs: opts.maxDelayMs ?? Number.POSITIVE_INFINITY,
    jitter: opts.jitter ?? 0,
    random: opts.random ?? Math.random,
  };
  if (!Number.isSafeInteger(p.retries) || p.retries < 0) throw new RangeError("retries must be an integer >= 0");
  if (!Number.isFinite(p.baseMs) || p.baseMs < 0) throw new RangeError("baseMs must be a finite number >= 0");
  if (!Number.isFinite(p.factor) || p.factor < 1) throw new RangeError("factor must be a finite number >= 1");
  if (Number.isNaN(p.maxDelayMs) || p.maxDelayMs < 0) throw new RangeError("maxDelayMs must be >= 0");
  if (!(p.jitter >= 0 && p.jitter <= 1)) throw new RangeError("jitter must be a ratio between 0 and 1");
  return p;
}

/** The wait before retry i + 1 (i is 0-based). */
function delayFor(p: Params, i: number): number {
  const nominal = Math.min(p.baseMs * p.factor ** i, p.maxDelayMs);
  const spread = p.jitter === 0 ? 1 : 1 + p.jitter * (2 * p.random() - 1);
  return Math.max(0, Math.round(Math.min(nominal * spread, p.maxDelayMs)));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
