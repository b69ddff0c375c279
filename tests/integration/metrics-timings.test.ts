import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, userMessage, type TestServer } from "../helpers/tiny-server.js";

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ slots: 1, queueMax: 8 }, { listen: true });
});
afterAll(async () => {
  await s?.app.close();
});

interface Timings {
  queue_ms: number;
  ttft_ms: number | null;
  total_ms: number;
  tokens_per_second: number | null;
}

function expectConsistent(t: Timings): void {
  expect(t.queue_ms).toBeGreaterThanOrEqual(0);
  expect(t.ttft_ms).not.toBeNull();
  expect(t.queue_ms).toBeLessThanOrEqual(t.ttft_ms!);
  expect(t.ttft_ms!).toBeLessThanOrEqual(t.total_ms);
  if (t.tokens_per_second !== null) expect(t.tokens_per_second).toBeGreaterThan(0);
}

describe("per-request timings", () => {
  test("non-streamed responses carry queue <= ttft <= total, also when requests queue", async () => {
    const bodies = await Promise.all(
      [3, 9, 1, 6].map((n, i) =>
        s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage(`timings plain ${i}`), max_tokens: n, temperature: 0.5, seed: i } }),
      ),
    );
    const timings = bodies.map((b) => b.json().timings as Timings);
    for (const t of timings) expectConsistent(t);
    // One slot and four concurrent requests: someone waited.
    expect(Math.max(...timings.map((t) => t.queue_ms))).toBeGreaterThan(0);
  });

  test("streamed responses carry consistent timings on their last chunk before [DONE], the finish chunk", async () => {
    const results = await Promise.all([4, 8, 2].map((n, i) => streamChat(s.url, { messages: userMessage(`timings stream ${i}`), max_tokens: n, temperature: 0.5, seed: i })));
    for (const r of results) {
      expect(r.done).toBe(true);
      const last = r.chunks.at(-1)!;
      expect(last.choices[0].finish_reason).toBe("length");
      expect(last.timings).toBeDefined();
      expectConsistent(last.timings as Timings);
      // Only the last chunk carries them.
      expect(r.chunks.filter((c) => c.timings !== undefined)).toHaveLength(1);
    }
  });

  test("with stream_options.include_usage the timings ride on the usage chunk, which comes last", async () => {
    const r = await streamChat(s.url, { messages: userMessage("timings with usage"), max_tokens: 5, temperature: 0.5, seed: 9, stream_options: { include_usage: true } });
    expect(r.done).toBe(true);
    const last = r.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBe(5);
    expectConsistent(last.timings as Timings);
    const finish = r.chunks.find((c) => c.choices?.[0]?.finish_reason);
    expect(finish).toBeDefined();
    expect(finish!.timings).toBeUndefined();
    expect(r.chunks.filter((c) => c.timings !== undefined)).toHaveLength(1);
  });

  test("an answer served from the response cache has consistent timings too", async () => {
    const req = { messages: userMessage("timings cached twice"), max_tokens: 5, temperature: 0 };
    await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: req });
    const second = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: req });
    expectConsistent(second.json().timings as Timings);
  });
});
