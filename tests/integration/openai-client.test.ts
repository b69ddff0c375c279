import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/tiny-server.js";

let s: TestServer;
let client: OpenAI;

beforeAll(async () => {
  // The response cache is off: an answer replayed from it would make every equality below hold trivially.
  s = await startTestServer({ slots: 1, apiKey: "test-key-123456", cache: { enabled: false } }, { listen: true });
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "test-key-123456", maxRetries: 0 });
});
afterAll(async () => {
  await s?.app.close();
});

describe("the official openai npm client", () => {
  test("lists models", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["gauntlet-tiny"]);
  });

  test("gets a non-streamed completion", async () => {
    const r = await client.chat.completions.create({ model: "gauntlet-tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 10, temperature: 0 });
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(r.choices[0]?.finish_reason).toBe("length");
    expect(r.usage?.completion_tokens).toBe(10);
  });

  test("streams a completion equal to the non-streamed one, with usage", async () => {
    const req = { model: "gauntlet-tiny", messages: [{ role: "user" as const, content: "Stream it" }], max_tokens: 12, temperature: 0 };
    const plain = await client.chat.completions.create(req);
    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(12);
  });

  test("surfaces a 400 as a BadRequestError with the server's message", async () => {
    const err = await client.chat.completions.create({ model: "gauntlet-tiny", messages: [], max_tokens: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/at least one message/);
  });

  test("a wrong key is an AuthenticationError", async () => {
    const bad = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "wrong-key-000000", maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
