import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";

let engine: Engine;
let s: TestServer;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 1 });
  s = await startTestServer({ slots: 1, bodyLimitBytes: 4096 }, { engine });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

describe("bad input gets a clear 4xx in the OpenAI error shape", () => {
  const cases: Array<[string, { payload: string; headers?: Record<string, string> }, number, string]> = [
    ["malformed JSON", { payload: '{"messages": [', headers: { "content-type": "application/json" } }, 400, "invalid_json"],
    ["an empty body", { payload: "", headers: { "content-type": "application/json" } }, 400, "invalid_json"],
    ["a JSON array body", { payload: "[]", headers: { "content-type": "application/json" } }, 400, "invalid_request"],
    ["text/plain", { payload: "hello", headers: { "content-type": "text/plain" } }, 415, "unsupported_media_type"],
    ["form data", { payload: "a=1", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415, "unsupported_media_type"],
    ["a body over the limit", { payload: JSON.stringify({ messages: userMessage("x".repeat(10_000)) }), headers: { "content-type": "application/json" } }, 413, "payload_too_large"],
    ["an unknown role", { payload: JSON.stringify({ messages: [{ role: "robot", content: "x" }] }), headers: { "content-type": "application/json" } }, 400, "invalid_request"],
    ["max_tokens out of range", { payload: JSON.stringify({ messages: userMessage("x"), max_tokens: 10 ** 9 }), headers: { "content-type": "application/json" } }, 400, "invalid_request"],
  ];
  test.each(cases)("%s", async (_name, req, status, code) => {
    const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", ...req });
    expect(res.statusCode).toBe(status);
    const body = res.json();
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe("string");
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(body.error).toHaveProperty("type");
    expect(body.error).toHaveProperty("param");
  });

  test("the JSON error never quotes the body it could not parse", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: "my private prompt {", headers: { "content-type": "application/json" } });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain("private");
  });

  test("an unknown route is a 404 in the same shape", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/nothing" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("not_found");
  });
});

describe("GET /v1/models", () => {
  test("lists the loaded model in the OpenAI list format", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/models" });
    expect(res.json()).toMatchObject({ object: "list", data: [{ id: "gauntlet-tiny", object: "model", owned_by: "gauntlet" }] });
  });
});

describe("GET /health", () => {
  test("reports healthy with the documented fields", async () => {
    const res = await s.app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe("healthy");
    expect(body.health).toEqual(expect.objectContaining({ consecutiveFailures: 0, lastCheck: expect.any(String), avgResponseTime: expect.any(Number), errorRate: expect.any(Number) }));
    expect(body.cache).toEqual({ tokens: 0, systemPromptHash: null, lastUpdated: null });
    expect(body.metrics).toEqual(expect.objectContaining({ requestsInFlight: 0, totalRequests: expect.any(Number), cacheHitRate: 0, avgLatency: expect.any(Number) }));
  });

  test("clients' own mistakes (a prompt longer than the context) do not make the server look unhealthy", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await s.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage(`${i} ${"z".repeat(2400)}`), max_tokens: 2 } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("context_length_exceeded");
    }
    const body = (await s.app.inject({ method: "GET", url: "/health" })).json();
    expect(body.health.consecutiveFailures).toBe(0);
    expect(body.status).toBe("healthy");
  });

  test("/health/ready answers 200 once the model is loaded", async () => {
    expect((await s.app.inject({ method: "GET", url: "/health/ready" })).statusCode).toBe(200);
  });

  test("/health/ready answers 503 while the engine is still loading", async () => {
    let resolve!: (e: Engine) => void;
    const pending = new Promise<Engine>((r) => (resolve = r));
    const loading = await startTestServer({}, { engine, server: { engine: pending, ownsEngine: false } });
    expect((await loading.app.inject({ method: "GET", url: "/health/ready" })).statusCode).toBe(503);
    const chat = await loading.app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: userMessage("x") } });
    expect(chat.statusCode).toBe(503);
    expect(chat.json().error.code).toBe("model_not_ready");
    resolve(engine);
    await pending;
    expect((await loading.app.inject({ method: "GET", url: "/health/ready" })).statusCode).toBe(200);
    await loading.app.close();
  });
});

describe("X-Session-Id", () => {
  test("is echoed when given", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/models", headers: { "x-session-id": "abc-123" } });
    expect(res.headers["x-session-id"]).toBe("abc-123");
  });

  test("is generated as a UUID when missing", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/models" });
    expect(res.headers["x-session-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("a malformed one is a 400 that says what is allowed", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/models", headers: { "x-session-id": "bad id with spaces" } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.param).toBe("X-Session-Id");
  });
});

describe("API key", () => {
  test("when configured, /v1/* need the bearer key and /health stays open", async () => {
    const secured = await startTestServer({ apiKey: "s3cret-key-123" }, { engine, server: { ownsEngine: false } });
    const none = await secured.app.inject({ method: "GET", url: "/v1/models" });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe("invalid_api_key");
    expect(none.body).not.toContain("s3cret");
    const wrong = await secured.app.inject({ method: "GET", url: "/v1/models", headers: { authorization: "Bearer s3cret-key-124" } });
    expect(wrong.statusCode).toBe(401);
    const right = await secured.app.inject({ method: "GET", url: "/v1/models", headers: { authorization: "Bearer s3cret-key-123" } });
    expect(right.statusCode).toBe(200);
    expect((await secured.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    await secured.app.close();
  });
});
