/** An error after a stream has started arrives as an SSE error event in the OpenAI error shape, and the stream ends cleanly. */
import { afterEach, describe, expect, test } from "vitest";
import type { FastifyInstance } from "fastify";
import { withChaos } from "../../src/engine/chaos-engine.js";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import { buildServer } from "../../src/server/app.js";
import { streamChat } from "../helpers/sse-client.js";

let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

async function serverWith(afterChunks: number): Promise<string> {
  app = await buildServer({
    settings: { apiKey: null, slots: 1, queueMax: 4, timeoutMs: 10_000, shutdownTimeoutMs: 1000, bodyLimitBytes: 1 << 20, maxTokensLimit: 64 },
    engine: withChaos(standInEngine(), { mode: "all", fault: { kind: "throw", afterChunks } }),
    ownsEngine: false,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  return `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
}

const body = { messages: [{ role: "user", content: "hello" }], max_tokens: 16, temperature: 0.5 };

describe("POST /v1/chat/completions, stream: true, when the engine fails", () => {
  test("after the first chunks: the text so far, then an error event with the OpenAI error body, then the end of the stream", async () => {
    const url = await serverWith(2);
    const r = await streamChat(url, body);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const contentChunks = r.chunks.filter((c) => c.choices?.[0]?.delta?.content);
    expect(contentChunks.length).toBe(2);
    const last = r.messages.at(-1)!;
    expect(last.event).toBe("error");
    const err = JSON.parse(last.data).error;
    expect(err).toMatchObject({ type: expect.any(String), code: expect.any(String) });
    expect(err.message.length).toBeGreaterThan(10);
    expect(r.done).toBe(false);
    // Nothing claims the answer finished normally.
    expect(r.chunks.some((c) => c.choices?.[0]?.finish_reason)).toBe(false);
  });

  test("before any chunk: an ordinary JSON error with a 5xx status, not an empty stream", async () => {
    const url = await serverWith(0);
    const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: true }) });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const j = (await res.json()) as { error: { message: string; code: string } };
    expect(j.error.message).not.toMatch(/\/(home|root|tmp|work)\//);
  });

  test("the server keeps serving after both", async () => {
    const url = await serverWith(1);
    await streamChat(url, body);
    const again = await streamChat(url, body);
    expect(again.status).toBe(200);
  });
});
