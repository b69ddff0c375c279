import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { streamChat } from "../helpers/sse-client.js";
import { removeContainer } from "./helpers/docker-client.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";

describe("server image", () => {
  let server: ServerContainer | undefined;

  beforeAll(async () => {
    server = await startServerContainer({ name: "server-image" });
  });

  afterAll(async () => {
    await removeContainer(server?.id);
  });

  test("starts and reports healthy on /health through the mapped port", async () => {
    const res = await fetch(`${server!.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string };
    expect(body.status).toBe("healthy");
  });

  test("answers a non-streaming chat completion through the mapped port", async () => {
    const res = await fetch(`${server!.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hello from the host" }], max_tokens: 16, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { completion_tokens: number } };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(16);
  });

  test("streams a chat completion as SSE ending in [DONE] through the mapped port", async () => {
    const r = await streamChat(server!.url, { messages: [{ role: "user", content: "Stream to the host" }], max_tokens: 16, temperature: 0 });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(r.done).toBe(true);
    expect(r.chunks.length).toBeGreaterThan(1);
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.chunks.at(-1)!.choices[0].finish_reason).toMatch(/^(stop|length)$/);
  });
});
