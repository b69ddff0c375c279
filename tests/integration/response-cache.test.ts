import { readdirSync, writeFileSync, truncateSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import { bindAll } from "../../src/engine/retrying-engine.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";

let engine: Engine;
let generations = 0;
/** The real engine, counting generations. */
let counting: Engine;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2 });
  counting = { ...bindAll(engine), generate: (r, c) => (generations++, engine.generate(r, c)) };
});
afterAll(async () => {
  await engine?.close();
});

async function server(overrides = {}, listen = false): Promise<TestServer> {
  return startTestServer({ slots: 2, ...overrides }, { engine: counting, listen, server: { ownsEngine: false } });
}
const chat = (s: TestServer, payload: object) => s.app.inject({ method: "POST", url: "/v1/chat/completions", payload });

describe("response cache", () => {
  test("a repeated deterministic request is a hit identical to the generated answer", async () => {
    const s = await server();
    const req = { messages: userMessage("cache me"), max_tokens: 12, temperature: 0 };
    const before = generations;
    const first = await chat(s, req);
    const second = await chat(s, req);
    expect(first.headers["x-cache-hit"]).toBe("false");
    expect(second.headers["x-cache-hit"]).toBe("true");
    expect(generations - before).toBe(1);
    const a = first.json();
    const b = second.json();
    expect(b.choices).toEqual(a.choices);
    expect({ p: b.usage.prompt_tokens, c: b.usage.completion_tokens, t: b.usage.total_tokens }).toEqual({ p: a.usage.prompt_tokens, c: a.usage.completion_tokens, t: a.usage.total_tokens });
    expect((await s.app.inject({ method: "GET", url: "/health" })).json().metrics.cacheHitRate).toBeGreaterThan(0);
    await s.app.close();
  });

  test("a fixed seed makes a sampled request cacheable; an unseeded one never hits", async () => {
    const s = await server();
    const seeded = { messages: userMessage("seeded"), max_tokens: 8, temperature: 0.9, seed: 5 };
    await chat(s, seeded);
    expect((await chat(s, seeded)).headers["x-cache-hit"]).toBe("true");
    const unseeded = { messages: userMessage("unseeded"), max_tokens: 8, temperature: 0.9 };
    await chat(s, unseeded);
    expect((await chat(s, unseeded)).headers["x-cache-hit"]).toBe("false");
    await s.app.close();
  });

  test("a streamed hit reassembles to the cached text and says so in X-Cache-Hit", async () => {
    const s = await server({}, true);
    const req = { messages: userMessage("stream from cache"), max_tokens: 10, temperature: 0 };
    const plain = (await chat(s, req)).json();
    const streamed = await streamChat(s.url, req);
    expect(streamed.headers.get("x-cache-hit")).toBe("true");
    expect(streamed.text).toBe(plain.choices[0].message.content);
    expect(streamed.done).toBe(true);
    await s.app.close();
  });

  test("30 concurrent identical requests give one generation and 30 identical answers", async () => {
    const s = await server();
    const req = { messages: userMessage("thirty at once"), max_tokens: 16, temperature: 0 };
    const before = generations;
    const all = await Promise.all(Array.from({ length: 30 }, () => chat(s, req)));
    expect(generations - before).toBe(1);
    const texts = new Set(all.map((r) => r.json().choices[0].message.content));
    expect(all.every((r) => r.statusCode === 200)).toBe(true);
    expect(texts.size).toBe(1);
    await s.app.close();
  });

  test("answers survive a restart; corrupted records are quarantined and regenerated with the same answer", async () => {
    const a = await server();
    const reqs = [0, 1, 2, 3].map((i) => ({ messages: userMessage(`persist ${i}`), max_tokens: 10, temperature: 0 }));
    const answers = [];
    for (const r of reqs) answers.push((await chat(a, r)).json().choices[0].message.content);
    const dir = a.config.cacheDir;
    await a.app.close();

    const recDir = join(dir, "responses", readdirSync(join(dir, "responses"))[0]!);
    const files = readdirSync(recDir).filter((f) => f.endsWith(".rec")).sort();
    expect(files).toHaveLength(4);
    // Corrupt three of four records in different ways.
    truncateSync(join(recDir, files[0]!), 20);
    const flipped = readFileSync(join(recDir, files[1]!));
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0xff;
    writeFileSync(join(recDir, files[1]!), flipped);
    writeFileSync(join(recDir, files[2]!), Buffer.from([0, 0, 0xff, 0xfe, 0]));

    const b = await server({ cacheDir: dir });
    const before = generations;
    const hits: string[] = [];
    for (const [i, r] of reqs.entries()) {
      const res = await chat(b, r);
      expect(res.statusCode).toBe(200);
      expect(res.json().choices[0].message.content).toBe(answers[i]);
      hits.push(String(res.headers["x-cache-hit"]));
    }
    expect(hits.filter((h) => h === "true")).toHaveLength(1);
    expect(generations - before).toBe(3);
    const state = (await b.app.inject({ method: "GET", url: "/cache" })).json();
    expect(state.responses.quarantineFiles).toBe(3);
    const prom = (await b.app.inject({ method: "GET", url: "/metrics" })).body;
    const total = (re: RegExp) => [...prom.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total(/^gauntlet_cache_corruptions_total\{[^}]*\} (\d+)/gm)).toBe(3);
    expect(total(/^gauntlet_cache_recoveries_total (\d+)/gm)).toBe(3);
    expect(total(/^gauntlet_cache_hits_total (\d+)/gm)).toBe(1);
    expect(total(/^gauntlet_cache_misses_total (\d+)/gm)).toBe(3);
    await b.app.close();
  });
});

describe("system-prompt cache", () => {
  const SYSTEM = "You are the gauntlet test assistant. Answer briefly and never mention the weather.";

  test("POST /cache/warm keeps the system prompt evaluated; later requests reuse it", async () => {
    const s = await server({ slots: 1 });
    const warm = await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    expect(warm.statusCode).toBe(200);
    const w = warm.json();
    expect(w.tokens).toBeGreaterThan(10);
    expect(w.systemPromptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof w.lastUpdated).toBe("number");
    const state = (await s.app.inject({ method: "GET", url: "/cache" })).json();
    expect(state).toMatchObject({ tokens: w.tokens, systemPromptHash: w.systemPromptHash, lastUpdated: w.lastUpdated });
    expect((await s.app.inject({ method: "GET", url: "/health" })).json().cache).toEqual({ tokens: w.tokens, systemPromptHash: w.systemPromptHash, lastUpdated: w.lastUpdated });

    const use = await chat(s, { messages: [{ role: "system", content: SYSTEM }, { role: "user", content: "hi" }], max_tokens: 4, temperature: 0.5 });
    expect(use.json().usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(w.tokens);
    await s.app.close();
  });

  test("a request with another system prompt is a miss and gets the same answer as on a cold engine", async () => {
    const s = await server({ slots: 1 });
    const other = { messages: [{ role: "system", content: "A different system prompt entirely." }, { role: "user", content: "hi" }], max_tokens: 8, temperature: 0, seed: 1 };
    const cold = await startTinyEngine({ slots: 1 });
    const expected = (await cold.generate({ messages: other.messages as never, params: { maxTokens: 8, temperature: 0, topP: 1, seed: 1, stop: [] }, slot: 0 })).text;
    await cold.close();
    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    const res = (await chat(s, other)).json();
    expect(res.usage.prompt_tokens_details.cached_tokens).toBeLessThan(10);
    expect(res.choices[0].message.content).toBe(expected);
    await s.app.close();
  });

  test.each([[{}], [{ prompt: "" }], [{ prompt: "   " }], [{ prompt: 42 }]])("POST /cache/warm with %j is a 400", async (payload) => {
    const s = await server();
    const res = await s.app.inject({ method: "POST", url: "/cache/warm", payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.param).toBe("prompt");
    await s.app.close();
  });

  test("DELETE /cache clears both caches", async () => {
    const s = await server({ slots: 1 });
    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    const req = { messages: userMessage("clear me"), max_tokens: 6, temperature: 0 };
    await chat(s, req);
    expect((await chat(s, req)).headers["x-cache-hit"]).toBe("true");
    const del = await s.app.inject({ method: "DELETE", url: "/cache" });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ cleared: true, tokens: 0, systemPromptHash: null });
    expect((await chat(s, req)).headers["x-cache-hit"]).toBe("false");
    const use = await chat(s, { messages: [{ role: "system", content: SYSTEM }, { role: "user", content: "x" }], max_tokens: 2, temperature: 0.5 });
    expect(use.json().usage.prompt_tokens_details.cached_tokens).toBeLessThan(10);
    await s.app.close();
  });
});
