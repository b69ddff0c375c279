import { describe, expect, test } from "vitest";
import type { RequestRecord } from "../../src/harness/load/types.js";
import { ScenarioAccumulator } from "../../src/harness/runner/accumulator.js";

const tolerance = { timingToleranceMs: 50, timingTolerancePct: 10 };
const answer = (text: string, tokens = 4) => ({ text, finishReason: "length", completionTokens: tokens, promptTokens: 3 });
const refs = new Map([["a", answer("alpha")], ["b", answer("beta")]]);

function rec(over: Partial<RequestRecord>): RequestRecord {
  return { index: 0, key: "a", sentAt: 0, scheduledAt: null, elapsedMs: 100, ttftMs: null, itlMs: [], status: 200, error: null, answer: answer("alpha"), server: { totalMs: 95, ttftMs: null, queueMs: 2 }, cacheHit: null, ...over };
}

describe("ScenarioAccumulator", () => {
  test("counts right answers, wrong answers with status 200, and failures by kind", () => {
    const acc = new ScenarioAccumulator({ references: refs, tolerance });
    acc.add(rec({ index: 1 }));
    acc.add(rec({ index: 2, key: "b", answer: answer("bet") }));
    acc.add(rec({ index: 3, error: "http-500", status: 500, answer: null }));
    acc.add(rec({ index: 4, error: "timeout", status: null, answer: null }));
    acc.add(rec({ index: 5, key: "zz" }));
    const r = acc.result();
    expect(r.requests).toEqual({ total: 5, ok: 1, failed: 3, wrongAnswers: 1 });
    expect(r.errorsByKind).toEqual({ "http-500": 1, timeout: 1, "no-reference": 1 });
    expect(r.wrongExamples).toEqual(['request 2 (b): text differs from the reference at character 4: "" vs "a"']);
    expect(r.latency.count).toBe(3);
  });

  test("computes TPOT from the server's token count and records TTFT and ITL", () => {
    const acc = new ScenarioAccumulator({ references: null, tolerance });
    acc.add(rec({ elapsedMs: 70, ttftMs: 10, itlMs: [20, 20, 20], answer: answer("x", 4), server: null }));
    const r = acc.result();
    expect(r.tpot.summary().p50).toBe(20);
    expect(r.ttft.summary().p50).toBe(10);
    expect(r.itl.count).toBe(3);
    expect(r.outputTokens).toBe(4);
    expect(r.requests.ok).toBe(1);
  });

  test("reconciles client and server timings and keeps examples of disagreements", () => {
    const acc = new ScenarioAccumulator({ references: null, tolerance });
    acc.add(rec({ index: 1, elapsedMs: 100, server: { totalMs: 95, ttftMs: null, queueMs: 0 } }));
    acc.add(rec({ index: 2, elapsedMs: 100, server: { totalMs: 120, ttftMs: null, queueMs: 0 } }));
    acc.add(rec({ index: 3, elapsedMs: 400, ttftMs: 300, server: { totalMs: 390, ttftMs: 100, queueMs: 0 } }));
    const r = acc.result();
    expect(r.timingsCompared).toBe(3);
    expect(r.timingMismatches).toBe(2);
    expect(r.mismatchExamples[0]).toMatch(/request 2: e2e: client measured 100 ms, less than the server's own 120 ms/);
    expect(r.mismatchExamples[1]).toMatch(/request 3: ttft: client measured 300 ms, 200 ms more than the server's 100 ms/);
  });

  test("tracks the window from first send to last completion and distinct answers per key", () => {
    const acc = new ScenarioAccumulator({ references: null, tolerance });
    acc.add(rec({ sentAt: 10, elapsedMs: 50 }));
    acc.add(rec({ sentAt: 30, elapsedMs: 100, answer: answer("other") }));
    const r = acc.result();
    expect([r.firstSentAt, r.lastDoneAt]).toEqual([10, 130]);
    expect(r.distinctAnswers).toBe(2);
  });

  test("counts answers the server served from its response cache", () => {
    const acc = new ScenarioAccumulator({ references: null, tolerance });
    acc.add(rec({ cacheHit: true }));
    acc.add(rec({ cacheHit: false }));
    acc.add(rec({ cacheHit: null }));
    expect(acc.result().cacheHits).toBe(1);
  });

  test("gives per-window percentiles for the latency series", () => {
    const acc = new ScenarioAccumulator({ references: null, tolerance });
    acc.add(rec({ elapsedMs: 10 }));
    acc.add(rec({ elapsedMs: 30 }));
    expect(acc.takeWindow(1000)).toEqual({ tMs: 1000, p50: 10, p95: 30 });
    expect(acc.takeWindow(2000)).toEqual({ tMs: 2000, p50: null, p95: null });
    expect(acc.live()).toEqual({ done: 2, p50: 10, p95: 30 });
  });
});
