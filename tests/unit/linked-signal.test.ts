import { getEventListeners } from "node:events";
import { describe, expect, test } from "vitest";
import { linkSignals } from "../../src/resilience/linked-signal.js";

describe("linkSignals", () => {
  test("aborts when any input aborts, with that input's reason", () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals([a.signal, b.signal]);
    expect(linked.signal.aborted).toBe(false);
    b.abort(new Error("b went"));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe("b went");
    linked.dispose();
  });

  test("is aborted at once when an input already is", () => {
    const a = new AbortController();
    a.abort("early");
    const linked = linkSignals([new AbortController().signal, a.signal]);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe("early");
  });

  test("leaves nothing behind on a long-lived input once disposed (AbortSignal.any keeps a reference per call on Node 20)", () => {
    const serverLifetime = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const perRequest = new AbortController();
      const linked = linkSignals([perRequest.signal, serverLifetime.signal]);
      linked.dispose();
    }
    expect(getEventListeners(serverLifetime.signal, "abort")).toHaveLength(0);
  });

  test("disposing does not abort, and a later abort of an input no longer reaches it", () => {
    const a = new AbortController();
    const linked = linkSignals([a.signal]);
    linked.dispose();
    a.abort();
    expect(linked.signal.aborted).toBe(false);
  });
});
