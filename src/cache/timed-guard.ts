/**
 * Runs one disk operation of the response cache under its circuit breaker and a time bound. The breaker
 * hears exactly one verdict per operation it let through: the operation's own (success, failure, or neutral
 * for a problem of one record path), or a failure when the bound passes first; a late result then changes
 * nothing. A disk that stalls therefore never holds a request longer than the bound, and counts against
 * the breaker like any other disk error.
 */
import type { CircuitBreaker } from "../resilience/circuit-breaker.js";

export type Verdict = "success" | "failure" | "neutral";

/** The breaker refused the operation (open, or half-open with its trials taken). */
export const REFUSED: unique symbol = Symbol("refused");
/** The operation did not settle within the bound (it may still settle later). */
export const TIMED_OUT: unique symbol = Symbol("timed out");
/** The operation threw (a bug: the disk store reports failures as results); counted as a failure. */
export const THREW: unique symbol = Symbol("threw");

export type Guarded<T> = T | typeof REFUSED | typeof TIMED_OUT | typeof THREW;

export interface TimedGuard {
  /** Never rejects. */
  run<T>(op: () => Promise<T>, judge: (result: T) => Verdict): Promise<Guarded<T>>;
}

export function createTimedGuard(breaker: CircuitBreaker | null, timeoutMs: number): TimedGuard {
  return {
    async run<T>(op: () => Promise<T>, judge: (result: T) => Verdict): Promise<Guarded<T>> {
      if (breaker && !breaker.canRequest()) return REFUSED;
      let decided = false;
      const decide = (v: Verdict): void => {
        if (decided) return;
        decided = true;
        if (v === "success") breaker?.recordSuccess();
        else if (v === "failure") breaker?.recordFailure();
        else breaker?.release();
      };
      const work: Promise<T | typeof THREW> = Promise.resolve()
        .then(op)
        .then(
          (result) => {
            decide(judge(result));
            return result;
          },
          (): typeof THREW => {
            decide("failure");
            return THREW;
          },
        );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
        timer.unref?.();
      });
      try {
        const first: Guarded<T> = await Promise.race([work, bound]);
        if (first === TIMED_OUT) {
          // Settled already in the same turn? Then its verdict stands.
          if (decided) return first;
          decide("failure");
        }
        return first;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
