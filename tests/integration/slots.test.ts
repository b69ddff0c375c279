import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";

let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 1 });
  s = await startTestServer({ slots: 1, queueMax: 0 }, { listen: true, engine });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

async function health(): Promise<any> {
  return (await fetch(`${s.url}/health`)).json();
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("condition not met in time");
}

describe("slots over a real socket", () => {
  test("a full queue gives 503 with Retry-After and an OpenAI error, never a hang", async () => {
    const ac = new AbortController();
    let first!: () => void;
    const started = new Promise<void>((r) => (first = r));
    const long = streamChat(s.url, { messages: userMessage("long one"), max_tokens: 1800, temperature: 0 }, { signal: ac.signal, onChunk: () => first() }).catch(() => null);
    await started;
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: userMessage("second"), max_tokens: 4 }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("queue_full");
    ac.abort();
    await long;
    await waitFor(async () => (await health()).metrics.requestsInFlight === 0);
  });

  test("a client that disconnects mid-stream frees the slot and the next answer is right", async () => {
    const probe = { messages: userMessage("after abort"), max_tokens: 12, temperature: 0 };
    const expected = (await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: probe })).json().choices[0].message.content;

    const ac = new AbortController();
    let chunks = 0;
    await streamChat(s.url, { messages: userMessage("abandon me"), max_tokens: 1800, temperature: 0 }, {
      signal: ac.signal,
      onChunk: () => {
        if (++chunks === 3) ac.abort();
      },
    }).catch(() => null);
    await waitFor(async () => (await health()).metrics.requestsInFlight === 0);
    const after = (await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: probe })).json();
    expect(after.choices[0].message.content).toBe(expected);
  });

  test("a non-streaming request whose client disconnects frees the slot too", async () => {
    const ac = new AbortController();
    const p = fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: userMessage("gone"), max_tokens: 1800 }),
      signal: ac.signal,
    }).catch(() => null);
    await waitFor(async () => (await health()).metrics.requestsInFlight === 1);
    ac.abort();
    await p;
    await waitFor(async () => (await health()).metrics.requestsInFlight === 0);
    const ok = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage("x"), max_tokens: 2 } });
    expect(ok.statusCode).toBe(200);
  });
});

describe("per-request timeout", () => {
  test("a request over the time limit gets a 504 and frees its slot", async () => {
    const t = await startTestServer({ slots: 1, timeoutMs: 100 }, { engine, server: { ownsEngine: false } });
    const res = await t.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage("slow"), max_tokens: 1800 } });
    expect(res.statusCode).toBe(504);
    expect(res.json().error.code).toBe("request_timeout");
    const ok = await t.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage("x"), max_tokens: 1 } });
    expect(ok.statusCode).toBe(200);
    await t.app.close();
  });
});
