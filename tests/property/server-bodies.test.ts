import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";

let s: TestServer;

beforeAll(async () => {
  // Small token limits keep every generated request cheap.
  // The response cache is off: an answer replayed from it would make every equality below hold trivially.
  s = await startTestServer({ slots: 2, maxTokensLimit: 16, cache: { enabled: false } }, { listen: true, server: { defaultMaxTokens: 4 } });
});
afterAll(async () => {
  await s?.app.close();
});

const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom("system", "user", "assistant", "developer"), fc.string(), fc.integer()),
    content: fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.constant(null), fc.integer(), fc.array(fc.record({ type: fc.constantFrom("text", "image_url"), text: fc.string() }), { maxLength: 2 })),
  },
  { requiredKeys: [] },
);
const chatLike = fc.record(
  {
    messages: fc.oneof(fc.array(message, { maxLength: 3 }), fc.jsonValue()),
    max_tokens: fc.oneof(fc.integer({ min: -5, max: 20 }), fc.double(), fc.string(), fc.constant(null)),
    temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), fc.string()),
    top_p: fc.oneof(fc.double({ min: -1, max: 2 }), fc.constant(1)),
    seed: fc.oneof(fc.integer(), fc.double(), fc.string()),
    stop: fc.oneof(fc.string({ maxLength: 3 }), fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 6 })),
    n: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.string()),
    stream: fc.oneof(fc.boolean(), fc.string()),
    stream_options: fc.oneof(fc.jsonValue(), fc.record({ include_usage: fc.oneof(fc.boolean(), fc.string()) })),
  },
  { requiredKeys: [] },
);

describe("POST /v1/chat/completions with arbitrary bodies", () => {
  test("never answers 5xx and the server keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(chatLike, fc.jsonValue()), async (body) => {
        const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: JSON.stringify(body), headers: { "content-type": "application/json" } });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode !== 200) {
          const err = res.json().error;
          expect(typeof err.message).toBe("string");
          expect(err.type).toBeTruthy();
        }
      }),
      { numRuns: 150 },
    );
    const health = await s.app.inject({ method: "GET", url: "/health" });
    expect(health.json().status).toBe("healthy");
  });

  test("arbitrary raw bytes as a JSON body never answer 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: Buffer.from(bytes), headers: { "content-type": "application/json" } });
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });
});

describe("streaming versus non-streaming", () => {
  test("the SSE stream reassembles to exactly the non-streamed text at temperature 0", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 16 }),
        fc.option(fc.string({ minLength: 1, maxLength: 2 }), { nil: undefined }),
        async (prompt, maxTokens, stop) => {
          const req = { messages: [{ role: "user", content: prompt }], max_tokens: maxTokens, temperature: 0, ...(stop ? { stop } : {}) };
          const plain = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: req });
          expect(plain.statusCode).toBe(200);
          const streamed = await streamChat(s.url, req);
          expect(streamed.text).toBe(plain.json().choices[0].message.content);
          expect(streamed.chunks.at(-1)?.choices[0].finish_reason).toBe(plain.json().choices[0].finish_reason);
        },
      ),
      { numRuns: 30 },
    );
  });
});
