import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";

let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2 });
  // The response cache is off: an answer replayed from it would make every equality below hold trivially.
  s = await startTestServer({ slots: 2, cache: { enabled: false } }, { listen: true, engine });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

const post = (payload: object, headers: Record<string, string> = {}) =>
  s.app.inject({ method: "POST", url: "/v1/chat/completions", payload, headers });

describe("POST /v1/chat/completions (non-streaming)", () => {
  test("returns a chat.completion with usage, timings and finish_reason length at max_tokens", async () => {
    const res = await post({ messages: userMessage("Hello there"), max_tokens: 8, temperature: 0 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.object).toBe("chat.completion");
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.model).toBe("gauntlet-tiny");
    expect(typeof body.created).toBe("number");
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0].message.role).toBe("assistant");
    expect(body.choices[0].message.content.length).toBeGreaterThan(0);
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(8);
    expect(body.usage.prompt_tokens).toBeGreaterThan(3);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 8);
    expect(body.timings.total_ms).toBeGreaterThan(0);
    expect(body.timings.queue_ms).toBeGreaterThanOrEqual(0);
  });

  test("is deterministic at temperature 0", async () => {
    const req = { messages: userMessage("Tell me a story"), max_tokens: 24, temperature: 0 };
    const first = await post(req);
    const second = await post(req);
    expect(second.headers["x-cache-hit"]).toBe("false");
    expect(first.json().choices[0].message.content).toBe(second.json().choices[0].message.content);
  });

  test("repeats exactly with a fixed seed at temperature 0.8 and differs across seeds", async () => {
    const req = { messages: userMessage("Seeded"), max_tokens: 24, temperature: 0.8 };
    const a = (await post({ ...req, seed: 7 })).json().choices[0].message.content;
    const b = (await post({ ...req, seed: 7 })).json().choices[0].message.content;
    const texts = new Set<string>();
    for (const seed of [1, 2, 3, 4]) texts.add((await post({ ...req, seed })).json().choices[0].message.content);
    expect(a).toBe(b);
    expect(texts.size).toBeGreaterThan(1);
  });

  test("multi-turn conversations with a system prompt are accepted", async () => {
    const res = await post({
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello." },
        { role: "user", content: "Again" },
      ],
      max_tokens: 4,
      temperature: 0,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().usage.prompt_tokens).toBeGreaterThan(10);
  });

  test("a stop string ends generation with finish_reason stop and is not returned", async () => {
    const req = { messages: userMessage("stop test"), max_tokens: 48, temperature: 0 };
    const full: string = (await post(req)).json().choices[0].message.content;
    const stop = full.slice(10, 12);
    const cut = full.indexOf(stop);
    const res = (await post({ ...req, stop: [stop] })).json();
    expect(res.choices[0].finish_reason).toBe("stop");
    expect(res.choices[0].message.content).toBe(full.slice(0, cut));
  });

  test("reuses the cached prompt prefix for a repeated conversation and reports it", async () => {
    const messages = [{ role: "system", content: "A long shared system prompt for prefix reuse." }, { role: "user", content: "one" }];
    // Sampled (not cacheable) so the engine really runs both times.
    await post({ messages, max_tokens: 2, temperature: 0.5 });
    const second = (await post({ messages, max_tokens: 2, temperature: 0.5 })).json();
    expect(second.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(5);
  });

  test("a prompt longer than the context is a 400 context_length_exceeded, not a silent shift", async () => {
    const res = await post({ messages: userMessage("word ".repeat(3000)), max_tokens: 4 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("context_length_exceeded");
    expect(res.json().error.param).toBe("messages");
  });
});

describe("POST /v1/chat/completions (streaming)", () => {
  test("streams SSE chunks that join to the non-streamed text, then finish_reason, usage and [DONE]", async () => {
    const req = { messages: userMessage("Stream please"), max_tokens: 20, temperature: 0 };
    const plain = (await post(req)).json();
    const r = await streamChat(s.url, { ...req, stream_options: { include_usage: true } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(r.headers.get("cache-control")).toBe("no-cache");
    expect(r.headers.get("x-accel-buffering")).toBe("no");
    expect(r.headers.get("x-session-id")).toBeTruthy();
    expect(r.chunks[0]!.object).toBe("chat.completion.chunk");
    expect(r.chunks[0]!.choices[0].delta.role).toBe("assistant");
    expect(r.text).toBe(plain.choices[0].message.content);
    const finish = r.chunks.find((c) => c.choices?.[0]?.finish_reason);
    expect(finish?.choices[0].finish_reason).toBe("length");
    const usage = r.chunks.at(-1)!;
    // The timings ride on the last chunk before [DONE]: here the usage chunk (as llama.cpp does).
    expect(usage.timings.ttft_ms).toBeGreaterThan(0);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(20);
    expect(r.done).toBe(true);
  });

  test("a streaming request that is invalid gets an ordinary 400 JSON error", async () => {
    const r = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [], stream: true }),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error.param).toBe("messages");
  });
});

describe("concurrency", () => {
  test("10 concurrent requests each equal the same request run alone at temperature 0", async () => {
    const prompts = Array.from({ length: 10 }, (_, i) => `Prompt number ${i} asks something different`);
    const alone: string[] = [];
    for (const p of prompts) alone.push((await post({ messages: userMessage(p), max_tokens: 16, temperature: 0 })).json().choices[0].message.content);
    const together = await Promise.all(
      prompts.map(async (p, i) => {
        if (i % 2 === 0) return (await post({ messages: userMessage(p), max_tokens: 16, temperature: 0 })).json().choices[0].message.content as string;
        return (await streamChat(s.url, { messages: userMessage(p), max_tokens: 16, temperature: 0 })).text;
      }),
    );
    expect(together).toEqual(alone);
  });
});
