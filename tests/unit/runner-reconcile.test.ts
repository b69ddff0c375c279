import { describe, expect, test } from "vitest";
import { reconcileTimings } from "../../src/harness/runner/reconcile.js";

const tol = { timingToleranceMs: 50, timingTolerancePct: 10 };

describe("reconcileTimings", () => {
  test("accepts a client time a little above the server's", () => {
    expect(reconcileTimings({ clientMs: 120, serverMs: 110, what: "e2e" }, tol)).toBeNull();
  });

  test("flags a client time below the server's, which cannot happen", () => {
    expect(reconcileTimings({ clientMs: 90, serverMs: 100, what: "e2e" }, tol)).toEqual({
      what: "e2e", kind: "client-below-server", clientMs: 90, serverMs: 100, gapMs: -10, allowedMs: 50,
    });
  });

  test("flags a gap beyond max(toleranceMs, tolerancePct of the client time)", () => {
    expect(reconcileTimings({ clientMs: 400, serverMs: 355, what: "e2e" }, tol)).toBeNull();
    expect(reconcileTimings({ clientMs: 400, serverMs: 300, what: "ttft" }, tol)).toMatchObject({ kind: "gap-too-large", what: "ttft", gapMs: 100, allowedMs: 50 });
    expect(reconcileTimings({ clientMs: 1000, serverMs: 880, what: "e2e" }, tol)).toMatchObject({ kind: "gap-too-large", allowedMs: 100 });
  });

  test("tolerates the server's rounding to a microsecond", () => {
    expect(reconcileTimings({ clientMs: 10.0004, serverMs: 10.001, what: "e2e" }, tol)).toBeNull();
  });
});
