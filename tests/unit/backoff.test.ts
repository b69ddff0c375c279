import { describe, expect, test } from "vitest";
import { backoffDelays, retryWithBackoff } from "../../src/resilience/backoff.js";

function recorder() {
  const slept: number[] = [];
  const retries: Array<[number, number, unknown]> = [];
  return {
    slept,
    retries,
    sleep: async (ms: number) => {
      slept.push(ms);
    },
    onRetry: (attempt: number, delayMs: number, err: unknown) => {
      retries.push([attempt, delayMs, err]);
    },
  };
}

/** fn that fails `failures` times with Error("fail <attempt>") and then returns "done". */
function flaky(failures: number) {
  const attempts: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    attempts.push(attempt);
    if (attempts.length <= failures) throw new Error(`fail ${attempt}`);
    return "done";
  };
  return { fn, attempts };
}

describe("backoff", () => {
  test("the default delays are 100, 200 and 400 ms", () => {
    expect(backoffDelays()).toEqual([100, 200, 400]);
  });

  test("delays follow baseMs, factor and retries and are capped by maxDelayMs", () => {
    expect(backoffDelays({ retries: 5, baseMs: 10, factor: 3, maxDelayMs: 500 })).toEqual([10, 30, 90, 270, 500]);
    expect(backoffDelays({ retries: 0 })).toEqual([]);
  });

  test("jitter spreads each delay within plus or minus the ratio", () => {
    expect(backoffDelays({ jitter: 0.5, random: () => 0 })).toEqual([50, 100, 200]);
    expect(backoffDelays({ jitter: 0.5, random: () => 0.5 })).toEqual([100, 200, 400]);
    expect(backoffDelays({ jitter: 0.5, random: () => 0.999999 })).toEqual([150, 300, 600]);
  });

  test("a call that fails twice is retried after 100 and 200 ms and its value returned", async () => {
    const r = recorder();
    const { fn, attempts } = flaky(2);
    await expect(retryWithBackoff(fn, { sleep: r.sleep, onRetry: r.onRetry })).resolves.toBe("done");
    expect(attempts).toEqual([1, 2, 3]);
    expect(r.slept).toEqual([100, 200]);
    expect(r.retries.map(([a, d]) => [a, d])).toEqual([
      [1, 100],
      [2, 200],
    ]);
    expect(String(r.retries[0]?.[2])).toContain("fail 1");
  });

  test("after the last retry the last error is thrown", async () => {
    const r = recorder();
    const { fn, attempts } = flaky(10);
    await expect(retryWithBackoff(fn, { sleep: r.sleep })).rejects.toThrow("fail 4");
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(r.slept).toEqual([100, 200, 400]);
  });

  test("isRetryable can forbid a retry, for example once a token was sent", async () => {
    const r = recorder();
    const { fn, attempts } = flaky(10);
    const asked: Array<[string, number]> = [];
    const isRetryable = (err: unknown, attempt: number): boolean => {
      asked.push([(err as Error).message, attempt]);
      return attempt < 2;
    };
    await expect(retryWithBackoff(fn, { sleep: r.sleep, isRetryable })).rejects.toThrow("fail 2");
    expect(attempts).toEqual([1, 2]);
    expect(asked).toEqual([
      ["fail 1", 1],
      ["fail 2", 2],
    ]);
  });

  test("retries: 0 makes exactly one attempt", async () => {
    const { fn, attempts } = flaky(1);
    await expect(retryWithBackoff(fn, { retries: 0, sleep: recorder().sleep })).rejects.toThrow("fail 1");
    expect(attempts).toEqual([1]);
  });

  test("an already aborted signal means the call is never made", async () => {
    const ac = new AbortController();
    ac.abort(new Error("shutting down"));
    const { fn, attempts } = flaky(0);
    await expect(retryWithBackoff(fn, { signal: ac.signal })).rejects.toThrow("shutting down");
    expect(attempts).toEqual([]);
  });

  test("an abort during the wait stops the retries with the abort reason", async () => {
    const ac = new AbortController();
    const { fn, attempts } = flaky(10);
    const sleep = async (): Promise<void> => {
      ac.abort(new Error("client gone"));
    };
    await expect(retryWithBackoff(fn, { sleep, signal: ac.signal })).rejects.toThrow("client gone");
    expect(attempts).toEqual([1]);
  });

  test("the default sleep waits and can be aborted", async () => {
    const { fn, attempts } = flaky(1);
    await expect(retryWithBackoff(fn, { baseMs: 1 })).resolves.toBe("done");
    expect(attempts).toEqual([1, 2]);
    const ac = new AbortController();
    const slow = flaky(10);
    const pending = retryWithBackoff(slow.fn, { baseMs: 60_000, signal: ac.signal });
    setImmediate(() => ac.abort(new Error("stop")));
    await expect(pending).rejects.toThrow("stop");
    expect(slow.attempts).toEqual([1]);
  });

  test("invalid options are refused with a RangeError", async () => {
    const fn = async (): Promise<number> => 1;
    await expect(retryWithBackoff(fn, { retries: -1 })).rejects.toThrow(RangeError);
    await expect(retryWithBackoff(fn, { jitter: 1.5 })).rejects.toThrow(RangeError);
    expect(() => backoffDelays({ baseMs: Number.NaN })).toThrow(RangeError);
    expect(() => backoffDelays({ factor: 0 })).toThrow(RangeError);
  });
});
