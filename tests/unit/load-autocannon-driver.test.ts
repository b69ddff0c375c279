import { describe, expect, test } from "vitest";
import { runAutocannon } from "../../src/harness/load/autocannon-driver.js";
import type { AutocannonFn, AutocannonOptions } from "../../src/harness/load/autocannon-driver.js";
import type { RequestRecord } from "../../src/harness/load/types.js";

/** Plays autocannon's part: per request, setupRequest on a fresh context, then onResponse with the answer. */
function fakeAutocannon(answer: (body: string, i: number) => [number, string], lost = { errors: 0, timeouts: 0 }): AutocannonFn & { seen: AutocannonOptions[] } {
  const seen: AutocannonOptions[] = [];
  const fn = ((opts: AutocannonOptions, done: Parameters<AutocannonFn>[1]) => {
    seen.push(opts);
    const req = opts.requests[0]!;
    for (let i = 0; i < (opts.amount ?? 0); i++) {
      const context = {};
      const built = req.setupRequest!({ ...req }, context);
      const [status, body] = answer(built.body!, i);
      req.onResponse!(status, body, context);
    }
    queueMicrotask(() => done(null, { latency: { mean: 12 }, requests: { average: 80 }, ...lost }));
  }) as AutocannonFn & { seen: AutocannonOptions[] };
  fn.seen = seen;
  return fn;
}

const completion = (content: string) => JSON.stringify({ choices: [{ message: { content }, finish_reason: "stop" }], usage: { completion_tokens: 2, prompt_tokens: 3 }, timings: { total_ms: 5, ttft_ms: 1, queue_ms: 0 } });

describe("runAutocannon", () => {
  test("sends each planned body and joins every answer with its own request", async () => {
    const ac = fakeAutocannon((body) => [200, completion(`echo ${JSON.parse(body).messages[0].content}`)]);
    const records: RequestRecord[] = [];
    let t = 0;
    const summary = await runAutocannon(ac, {
      baseUrl: "http://127.0.0.1:1", connections: 2, count: 3, durationMs: null, rate: null, timeoutMs: 30_000,
      clock: { now: () => (t += 5), sleep: async () => undefined },
      plan: (i) => ({ index: i + 10, key: `k${i}`, body: { messages: [{ role: "user", content: `q${i}` }], max_tokens: 2, temperature: 0, stream: false } }),
      onRecord: (r) => records.push(r),
    });
    expect(ac.seen[0]).toMatchObject({ url: "http://127.0.0.1:1", connections: 2, amount: 3, timeout: 30 });
    expect(records.map((r) => [r.index, r.key, r.answer?.text, r.error])).toEqual([[10, "k0", "echo q0", null], [11, "k1", "echo q1", null], [12, "k2", "echo q2", null]]);
    expect(records[0]).toMatchObject({ elapsedMs: 5, server: { totalMs: 5 }, answer: { completionTokens: 2 } });
    expect(summary).toEqual({ sent: 3, reportedMeanLatencyMs: 12, reportedRps: 80 });
  });

  test("records HTTP errors and the requests autocannon lost to errors or timeouts", async () => {
    const ac = fakeAutocannon((_b, i) => (i === 0 ? [500, "{}"] : [200, "not json"]), { errors: 2, timeouts: 1 });
    const records: RequestRecord[] = [];
    await runAutocannon(ac, {
      baseUrl: "http://127.0.0.1:1", connections: 1, count: 2, durationMs: null, rate: 5, timeoutMs: 1000,
      clock: { now: () => 0, sleep: async () => undefined },
      plan: (i) => ({ index: i, key: "k", body: { messages: [], max_tokens: 1, temperature: 0, stream: false } }),
      onRecord: (r) => records.push(r),
    });
    expect(ac.seen[0]).toMatchObject({ overallRate: 5 });
    expect(records.map((r) => r.error)).toEqual(["http-500", "bad-response", "timeout", "network-error"]);
  });
});
