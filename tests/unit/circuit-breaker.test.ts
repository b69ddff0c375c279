import { describe, expect, test } from "vitest";
import { CircuitBreaker, CircuitOpenError } from "../../src/resilience/circuit-breaker.js";
import type { CircuitBreakerOptions } from "../../src/resilience/circuit-breaker.js";

function setup(opts: Partial<CircuitBreakerOptions> = {}) {
  let t = 1_000;
  const breaker = new CircuitBreaker({ cooldownMs: 1_000, now: () => t, ...opts });
  const edges: string[] = [];
  breaker.onTransition((from, to) => edges.push(`${from}->${to}`));
  return {
    breaker,
    edges,
    advance: (ms: number) => {
      t += ms;
    },
    fail: (n: number) => {
      for (let i = 0; i < n; i++) breaker.recordFailure();
    },
    succeed: (n: number) => {
      for (let i = 0; i < n; i++) {
        expect(breaker.canRequest()).toBe(true);
        breaker.recordSuccess();
      }
    },
  };
}

describe("CircuitBreaker", () => {
  test("starts closed and lets requests through", () => {
    const { breaker } = setup();
    expect(breaker.state).toBe("closed");
    expect(breaker.canRequest()).toBe(true);
  });

  test("opens after five consecutive failures by default", () => {
    const { breaker, fail, edges } = setup();
    fail(4);
    expect(breaker.state).toBe("closed");
    fail(1);
    expect(breaker.state).toBe("open");
    expect(edges).toEqual(["closed->open"]);
  });

  test("a success resets the consecutive failure count", () => {
    const { breaker, fail } = setup();
    fail(4);
    breaker.recordSuccess();
    fail(4);
    expect(breaker.state).toBe("closed");
    expect(breaker.stats.consecutiveFailures).toBe(4);
  });

  test("while open it refuses requests, counts them and says how long until a retry", () => {
    const { breaker, fail, advance } = setup();
    fail(5);
    advance(400);
    expect(breaker.canRequest()).toBe(false);
    expect(breaker.canRequest()).toBe(false);
    expect(breaker.stats.rejected).toBe(2);
    expect(breaker.retryAfterMs()).toBe(600);
  });

  test("after the cooldown it turns half-open and lets only a bounded number of trials through", () => {
    const { breaker, fail, advance, edges } = setup({ halfOpenMaxTrials: 2 });
    fail(5);
    advance(1_000);
    expect(breaker.state).toBe("half-open");
    expect(breaker.canRequest()).toBe(true);
    expect(breaker.canRequest()).toBe(true);
    expect(breaker.canRequest()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.canRequest()).toBe(true);
    expect(edges).toEqual(["closed->open", "open->half-open"]);
    expect(breaker.retryAfterMs()).toBe(0);
  });

  test("ten consecutive successes while half-open close it", () => {
    const { breaker, fail, advance, succeed, edges } = setup();
    fail(5);
    advance(1_000);
    succeed(9);
    expect(breaker.state).toBe("half-open");
    succeed(1);
    expect(breaker.state).toBe("closed");
    expect(edges).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
  });

  test("a failure while half-open reopens it and restarts the cooldown", () => {
    const { breaker, fail, advance, succeed, edges } = setup();
    fail(5);
    advance(1_000);
    succeed(3);
    expect(breaker.canRequest()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe("open");
    advance(999);
    expect(breaker.canRequest()).toBe(false);
    advance(1);
    expect(breaker.canRequest()).toBe(true);
    expect(edges).toEqual(["closed->open", "open->half-open", "half-open->open", "open->half-open"]);
  });

  test("results that arrive while open do not change the state", () => {
    const { breaker, fail } = setup({ successThreshold: 1 });
    fail(5);
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.state).toBe("open");
    expect(breaker.stats).toMatchObject({ successes: 1, failures: 6 });
  });

  test("stats count transitions per edge and the current streaks", () => {
    const { breaker, fail, advance, succeed } = setup({ failureThreshold: 2, successThreshold: 2 });
    fail(2);
    advance(1_000);
    succeed(1);
    breaker.canRequest();
    breaker.recordFailure();
    advance(1_000);
    succeed(2);
    expect(breaker.stats).toMatchObject({
      state: "closed",
      consecutiveSuccesses: 2,
      consecutiveFailures: 0,
      transitions: { "closed->open": 1, "open->half-open": 2, "half-open->open": 1, "half-open->closed": 1 },
    });
  });

  test("an unsubscribed or throwing listener does not stop the breaker", () => {
    const { breaker, fail } = setup({ failureThreshold: 1 });
    const seen: string[] = [];
    const off = breaker.onTransition((from, to) => seen.push(`${from}->${to}`));
    breaker.onTransition(() => {
      throw new Error("listener bug");
    });
    off();
    fail(1);
    expect(breaker.state).toBe("open");
    expect(seen).toEqual([]);
  });

  test("when disabled it is always closed and never refuses", () => {
    const { breaker, fail, edges } = setup({ enabled: false });
    fail(50);
    expect(breaker.state).toBe("closed");
    expect(breaker.canRequest()).toBe(true);
    expect(edges).toEqual([]);
    expect(breaker.stats).toMatchObject({ enabled: false, failures: 50 });
  });

  test("run records the outcome of the operation and rethrows its error", async () => {
    const { breaker } = setup({ failureThreshold: 2 });
    await expect(breaker.run(async () => 42)).resolves.toBe(42);
    await expect(breaker.run(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(breaker.stats).toMatchObject({ successes: 1, failures: 1 });
  });

  test("run refuses with CircuitOpenError without calling the operation while open", async () => {
    const { breaker, fail, advance } = setup({ failureThreshold: 1 });
    fail(1);
    advance(250);
    let called = false;
    const err = await breaker
      .run(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as CircuitOpenError).retryAfterMs).toBe(750);
    expect(called).toBe(false);
  });

  test("run with isFailure false neither counts the error nor keeps the trial slot", async () => {
    const { breaker, fail, advance } = setup({ failureThreshold: 1 });
    fail(1);
    advance(1_000);
    const aborted = new Error("client went away");
    await expect(breaker.run(() => Promise.reject(aborted), { isFailure: (e) => e !== aborted })).rejects.toBe(aborted);
    expect(breaker.state).toBe("half-open");
    expect(breaker.stats.failures).toBe(1);
    expect(breaker.canRequest()).toBe(true);
  });

  test("a half-open trial that never reports back is given up after a cooldown", () => {
    const { breaker, fail, advance } = setup({ failureThreshold: 1 });
    fail(1);
    advance(1_000);
    expect(breaker.canRequest()).toBe(true);
    expect(breaker.canRequest()).toBe(false);
    advance(1_000);
    expect(breaker.canRequest()).toBe(true);
  });

  test("thresholds and cooldown are validated", () => {
    const now = (): number => 0;
    expect(() => new CircuitBreaker({ now, failureThreshold: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ now, successThreshold: 1.5 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ now, cooldownMs: -1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ now, halfOpenMaxTrials: 0 })).toThrow(RangeError);
  });
});
