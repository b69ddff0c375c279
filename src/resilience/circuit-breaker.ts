/**
 * A circuit breaker: closed -> open after `failureThreshold` consecutive failures; open refuses every request
 * until `cooldownMs` (monotonic clock) has passed, then half-open lets at most `halfOpenMaxTrials` trial
 * operations run at once; `successThreshold` consecutive successes close it, any failure reopens it.
 *
 * Protocol: every `canRequest()` that returns true must be followed by exactly one `recordSuccess()`,
 * `recordFailure()` or `release()` (neutral outcome, e.g. the client went away); `run()` does this for you.
 * A half-open trial that never reports back is given up after another cooldown, so a leak cannot wedge it.
 * Results recorded while open (requests that started before it opened) are counted but change nothing.
 */
import { performance } from "node:perf_hooks";

export type BreakerState = "closed" | "open" | "half-open";
export type BreakerEdge = "closed->open" | "open->half-open" | "half-open->closed" | "half-open->open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a closed breaker (default 5). */
  failureThreshold?: number | undefined;
  /** Consecutive half-open successes that close it (default 10). */
  successThreshold?: number | undefined;
  /** Time spent open before trials are let through (default 30 s). */
  cooldownMs?: number | undefined;
  /** Trial operations allowed in flight at once while half-open (default 1). */
  halfOpenMaxTrials?: number | undefined;
  /** false: always closed, never refuses (default true). */
  enabled?: boolean | undefined;
  /** Monotonic clock in ms (default performance.now). */
  now?: (() => number) | undefined;
}

export interface CircuitBreakerStats {
  state: BreakerState;
  enabled: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Total outcomes recorded. */
  successes: number;
  failures: number;
  /** canRequest() calls answered false. */
  rejected: number;
  trialsInFlight: number;
  transitions: Record<BreakerEdge, number>;
}

export type TransitionListener = (from: BreakerState, to: BreakerState) => void;

export interface RunOptions {
  /** Whether an error counts as a failure of the protected service (default: every error does). */
  isFailure?: ((err: unknown) => boolean) | undefined;
}

/** Thrown by run() when the breaker refuses the operation. */
export class CircuitOpenError extends Error {
  override readonly name = "CircuitOpenError";
  constructor(readonly retryAfterMs: number) {
    super(`circuit open, retry in ${Math.ceil(retryAfterMs)} ms`);
  }
}

export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly cooldownMs: number;
  private readonly maxTrials: number;
  private readonly enabled: boolean;
  private readonly now: () => number;
  private current: BreakerState = "closed";
  private openedAt = 0;
  private lastTrialAt = 0;
  private trials = 0;
  private consecutiveFailures = 0;
  private consecutiveSuccesses = 0;
  private successes = 0;
  private failures = 0;
  private rejected = 0;
  private readonly transitions: Record<BreakerEdge, number> = {
    "closed->open": 0,
    "open->half-open": 0,
    "half-open->closed": 0,
    "half-open->open": 0,
  };
  private readonly listeners = new Set<TransitionListener>();

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = positiveInt(opts.failureThreshold ?? 5, "failureThreshold");
    this.successThreshold = positiveInt(opts.successThreshold ?? 10, "successThreshold");
    this.maxTrials = positiveInt(opts.halfOpenMaxTrials ?? 1, "halfOpenMaxTrials");
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    if (!Number.isFinite(this.cooldownMs) || this.cooldownMs < 0) throw new RangeError("cooldownMs must be >= 0");
    this.enabled = opts.enabled ?? true;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The state now (an open breaker whose cooldown has passed reports half-open). */
  get state(): BreakerState {
    this.refresh();
    return this.current;
  }

  get stats(): CircuitBreakerStats {
    this.refresh();
    return {
      state: this.current,
      enabled: this.enabled,
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
      successes: this.successes,
      failures: this.failures,
      rejected: this.rejected,
      trialsInFlight: this.trials,
      transitions: { ...this.transitions },
    };
  }

  /** Milliseconds until an open breaker lets a trial through; 0 when not open. */
  retryAfterMs(): number {
    this.refresh();
    return this.current === "open" ? Math.max(0, this.openedAt + this.cooldownMs - this.now()) : 0;
  }

  /** Whether a request may proceed now; while half-open a true answer takes one trial slot. */
  canRequest(): boolean {
    if (!this.enabled) return true;
    this.refresh();
    if (this.current === "closed") return true;
    if (this.current === "half-open") {
      if (this.trials >= this.maxTrials && this.now() - this.lastTrialAt >= this.cooldownMs) this.trials = 0;
      if (this.trials < this.maxTrials) {
        this.trials++;
        this.lastTrialAt = this.now();
        return true;
      }
    }
    this.rejected++;
    return false;
  }

  recordSuccess(): void {
    this.successes++;
    if (!this.enabled) return;
    this.refresh();
    if (this.current === "open") return;
    this.consecutiveFailures = 0;
    this.consecutiveSuccesses++;
    if (this.current === "half-open") {
      this.releaseTrial();
      if (this.consecutiveSuccesses >= this.successThreshold) this.move("closed");
    }
  }

  recordFailure(): void {
    this.failures++;
    if (!this.enabled) return;
    this.refresh();
    if (this.current === "open") return;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures++;
    if (this.current === "half-open" || this.consecutiveFailures >= this.failureThreshold) this.move("open");
  }

  /** Ends a permitted request without a verdict: frees its half-open trial slot, counts nothing. */
  release(): void {
    if (this.current === "half-open") this.releaseTrial();
  }

  /** Subscribes to state changes; returns the unsubscribe function. Listener exceptions are ignored. */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Runs `fn` if the breaker allows it and records its outcome; throws CircuitOpenError otherwise. */
  async run<T>(fn: () => Promise<T>, opts: RunOptions = {}): Promise<T> {
    if (!this.canRequest()) throw new CircuitOpenError(this.retryAfterMs());
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      if (opts.isFailure?.(err) ?? true) this.recordFailure();
      else this.release();
      throw err;
    }
    this.recordSuccess();
    return result;
  }

  private refresh(): void {
    if (this.current === "open" && this.now() - this.openedAt >= this.cooldownMs) this.move("half-open");
  }

  private releaseTrial(): void {
    this.trials = Math.max(0, this.trials - 1);
  }

  private move(to: BreakerState): void {
    const from = this.current;
    this.current = to;
    this.transitions[`${from}->${to}` as BreakerEdge]++;
    if (to === "open") {
      this.openedAt = this.now();
      this.trials = 0;
    } else if (to === "half-open") {
      this.trials = 0;
      this.consecutiveFailures = 0;
      this.consecutiveSuccesses = 0;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(from, to);
      } catch {
        // a listener's bug must not change the breaker's behaviour
      }
    }
  }
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be an integer >= 1`);
  return n;
}
