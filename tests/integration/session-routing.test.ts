/**
 * X-Session-Id routing through HTTP, on the real tiny engine with 2 slots and the response cache off:
 * a session's next turn goes to the slot its conversation is on and reuses that prefix.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withFaults } from "../../src/engine/faulty-engine.js";
import type { ChatMessage, Engine } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, type TestServer } from "../helpers/tiny-server.js";

let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2, contextSize: 1024 });
  s = await startTestServer({ slots: 2, cache: { enabled: false } }, { listen: true, engine });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

async function chat(messages: ChatMessage[], sessionId?: string): Promise<{ text: string; promptTokens: number; cachedTokens: number; session: string | null }> {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(sessionId ? { "x-session-id": sessionId } : {}) },
    body: JSON.stringify({ messages, max_tokens: 12, temperature: 0 }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as any;
  return {
    text: body.choices[0].message.content,
    promptTokens: body.usage.prompt_tokens,
    cachedTokens: body.usage.prompt_tokens_details.cached_tokens,
    session: res.headers.get("x-session-id"),
  };
}

describe("X-Session-Id routing over HTTP", () => {
  test("the second turn of a session goes to the session's slot and reuses its whole first prompt", async () => {
    const system: ChatMessage = { role: "system", content: "You are the routing test's assistant; answer briefly." };
    const turn1: ChatMessage[] = [system, { role: "user", content: "What is a slot?" }];
    const first = await chat(turn1, "conversation-1");
    expect(first.session).toBe("conversation-1");

    // Another client with its own system prompt: it shares only the template's first tokens with the
    // session's slot, which must not be given away for so little.
    await chat([{ role: "system", content: "Another client, another system prompt entirely." }, { role: "user", content: "hi" }], "conversation-2");

    const before = engine.stats!().sessionRoutes;
    const turn2: ChatMessage[] = [...turn1, { role: "assistant", content: first.text }, { role: "user", content: "And a queue?" }];
    const second = await chat(turn2, "conversation-1");
    expect(engine.stats!().sessionRoutes).toBe(before + 1);
    expect(second.cachedTokens).toBeGreaterThanOrEqual(first.promptTokens);
    expect(second.cachedTokens).toBeLessThan(second.promptTokens);
  });

  test("a session's turn is routed by its session even through the debug fault wrapper", async () => {
    const wrapped = withFaults(engine, { rate: 0, seed: 1 });
    const messages: ChatMessage[] = [{ role: "user", content: "wrapped" }];
    await engine.generate({ messages, params: { maxTokens: 4, temperature: 0, topP: 1, stop: [] }, slot: 1, sessionId: "wrapped-session" });
    const before = engine.stats!().sessionRoutes;
    expect(wrapped.chooseSlot!([0, 1], [{ role: "user", content: "something else" }], "wrapped-session")).toBe(1);
    expect(engine.stats!().sessionRoutes).toBe(before + 1);
  });
});
