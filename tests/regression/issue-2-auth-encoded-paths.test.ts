/**
 * Issue 2: with an API key configured, /v1/* and /cache must need it. The key check looked at the raw
 * request URL (`startsWith("/v1/")`) while the router decodes percent-escapes before matching, so
 * `GET /%761/models` or `POST /%76%31/chat/completions` reached the routes with no key at all.
 * The check now asks which route matched, and everything but the open routes needs the key.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { FastifyInstance } from "fastify";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import { buildServer } from "../../src/server/app.js";

const KEY = "s3cret-key-123";
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer({
    settings: { apiKey: KEY, slots: 1, queueMax: 4, timeoutMs: 5000, shutdownTimeoutMs: 1000, bodyLimitBytes: 1 << 20, maxTokensLimit: 64 },
    engine: standInEngine(),
    ownsEngine: false,
  });
});
afterAll(async () => {
  await app?.close();
});

const chatBody = { messages: [{ role: "user", content: "hi" }], max_tokens: 2, temperature: 0 };

describe("issue 2: the API key cannot be sidestepped by how the path is written", () => {
  test.each([
    ["GET", "/%761/models"],
    ["GET", "/%76%31/models"],
    ["GET", "/v1/%6dodels"],
    ["POST", "/%76%31/chat/completions"],
    ["POST", "/v1/chat/%63ompletions"],
    ["GET", "/%63ache"],
    ["DELETE", "/%63ache"],
    ["GET", "/v1/models?x=/health"],
  ])("%s %s without the key is refused with 401", async (method, url) => {
    const res = await app.inject({ method: method as "GET", url, ...(method === "POST" ? { payload: chatBody } : {}) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("invalid_api_key");
  });

  test("an unknown path without the key gets 401, so the key-less cannot map the API", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/nothing-here" });
    expect(res.statusCode).toBe(401);
  });

  test("the encoded path with the key reaches the route", async () => {
    const res = await app.inject({ method: "GET", url: "/%761/models", headers: { authorization: `Bearer ${KEY}` } });
    expect(res.statusCode).toBe(200);
  });

  test.each(["/health", "/health/ready", "/metrics", "/%68ealth"])("%s stays open", async (url) => {
    const res = await app.inject({ method: "GET", url });
    expect(res.statusCode).not.toBe(401);
  });
});
