import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";

let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 1 });
  // The response cache is off: an answer replayed from it would make every equality below hold trivially.
  s = await startTestServer({ slots: 1, queueMax: 0, cache: { enabled: false } }, { listen: true, engine });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

async function health(): Promise<any> {
  return (await fetch(`${s.url}/health`)).json();
}

/** No request in flight and no slot busy. A request ends for its client as soon as it goes away, but its slot is
 * free only once the engine has really stopped (at the next token): tests that need the slot wait for both. */
async function idle(): Promise<boolean> {
  if ((await health()).metrics.requestsInFlight !== 0) return false;
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const busy = /^gauntlet_slots_busy (\S+)$/m.exec(metrics);
  if (!busy) throw new Error("gauntlet_slots_busy is missing from /metrics");
  return Number(busy[1]) === 0;
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
    await waitFor(idle);
  });

  test("a client that disconnects mid-stream frees the slot and the next answer is right", async () => {
    const probe = { messages: userMessage("after abort"), max_tokens: 12, temperature: 0 };
    const first = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: probe });
    expect(first.statusCode, first.body).toBe(200);
    const expected = first.json().choices[0].message.content;

    const ac = new AbortController();
    let chunks = 0;
    await streamChat(s.url, { messages: userMessage("abandon me"), max_tokens: 1800, temperature: 0 }, {
      signal: ac.signal,
      onChunk: () => {
        if (++chunks === 3) ac.abort();
      },
    }).catch(() => null);
    await waitFor(idle);
    const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: probe });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().choices[0].message.content).toBe(expected);
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
    await waitFor(idle);
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

describe("a bounded wait queue in front of the slots", () => {
  test("waiters up to --queue are served in turn with right answers; the one past it gets 503 at once", async () => {
    const q = await startTestServer({ slots: 1, queueMax: 2, cache: { enabled: false } }, { listen: true, engine, server: { ownsEngine: false } });
    try {
      const ask = (content: string, maxTokens: number) =>
        fetch(`${q.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: userMessage(content), max_tokens: maxTokens, temperature: 0 }),
        });
      const alone = async (content: string) => ((await (await ask(content, 8)).json()) as any).choices[0].message.content as string;
      const expected = [await alone("queued one"), await alone("queued two")];

      let first!: () => void;
      const started = new Promise<void>((r) => (first = r));
      const holder = streamChat(q.url, { messages: userMessage("hold the slot"), max_tokens: 1500, temperature: 0 }, { onChunk: () => first() });
      await started;
      const waiting = [ask("queued one", 8), ask("queued two", 8)];
      const metrics = async () => ((await (await fetch(`${q.url}/v1/metrics?category=requests`)).json()) as any).requests;
      const end = Date.now() + 5000;
      while ((await metrics()).waiting < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect((await metrics()).waiting).toBe(2);

      const refused = await ask("one too many", 8);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as any).error.code).toBe("queue_full");

      const answers = await Promise.all(waiting);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      const texts = await Promise.all(answers.map(async (r) => ((await r.json()) as any).choices[0].message.content));
      expect(texts).toEqual(expected);
      expect((await holder).done).toBe(true);
    } finally {
      await q.app.close();
    }
  });
});
