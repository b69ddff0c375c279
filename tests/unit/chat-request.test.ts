import { describe, expect, test } from "vitest";
import { ApiError } from "../../src/errors.js";
import { parseChatRequest } from "../../src/server/schemas/chat.js";

const limits = { maxTokensLimit: 512, defaultMaxTokens: 128 };
const ok = { messages: [{ role: "user", content: "hi" }] };

function fail(body: unknown): ApiError {
  try {
    parseChatRequest(body, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("expected a validation error");
}

describe("parseChatRequest", () => {
  test("accepts a minimal request and fills in defaults", () => {
    const r = parseChatRequest(ok, limits);
    expect(r.messages).toEqual([{ role: "user", content: "hi" }]);
    expect(r.params).toEqual({ maxTokens: 128, temperature: 1, topP: 1, seed: undefined, stop: [] });
    expect(r.stream).toBe(false);
    expect(r.includeUsage).toBe(false);
  });

  test("reads every supported sampling field", () => {
    const r = parseChatRequest(
      { ...ok, max_tokens: 7, temperature: 0, top_p: 0.5, seed: 42, stop: "x", n: 1, stream: true, stream_options: { include_usage: true } },
      limits,
    );
    expect(r.params).toEqual({ maxTokens: 7, temperature: 0, topP: 0.5, seed: 42, stop: ["x"] });
    expect(r.stream).toBe(true);
    expect(r.includeUsage).toBe(true);
  });

  test("an invalid max_tokens is refused even when max_completion_tokens is valid", () => {
    expect(() => parseChatRequest({ ...ok, max_tokens: -3, max_completion_tokens: 9 }, limits)).toThrow(/max_tokens must be an integer/);
    expect(() => parseChatRequest({ ...ok, max_tokens: "5", max_completion_tokens: 9 }, limits)).toThrow(/max_tokens must be an integer/);
  });

  test("max_completion_tokens wins over max_tokens", () => {
    expect(parseChatRequest({ ...ok, max_tokens: 5, max_completion_tokens: 9 }, limits).params.maxTokens).toBe(9);
  });

  test("joins text content parts and maps the developer role to system", () => {
    const r = parseChatRequest(
      { messages: [{ role: "developer", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }, { role: "user", content: "q" }] },
      limits,
    );
    expect(r.messages[0]).toEqual({ role: "system", content: "ab" });
  });

  test.each([
    [null, "body", /JSON object/],
    [[], "body", /JSON object/],
    [{}, "messages", /messages is required/],
    [{ messages: [] }, "messages", /at least one message/],
    [{ messages: "hi" }, "messages", /must be an array/],
    [{ messages: [{ role: "wizard", content: "x" }] }, "messages[0].role", /system, user, assistant/],
    [{ messages: [{ role: "user" }] }, "messages[0].content", /content/],
    [{ messages: [{ role: "user", content: 5 }] }, "messages[0].content", /string/],
    [{ messages: [{ role: "user", content: [{ type: "image_url" }] }] }, "messages[0].content", /text parts/],
    [{ ...ok, max_tokens: 0 }, "max_tokens", /from 1 to 512/],
    [{ ...ok, max_tokens: 513 }, "max_tokens", /from 1 to 512/],
    [{ ...ok, max_tokens: 1.5 }, "max_tokens", /integer/],
    [{ ...ok, max_tokens: "10" }, "max_tokens", /integer/],
    [{ ...ok, temperature: -1 }, "temperature", /from 0 to 2/],
    [{ ...ok, temperature: "hot" }, "temperature", /number/],
    [{ ...ok, top_p: 0 }, "top_p", /greater than 0/],
    [{ ...ok, seed: 1.5 }, "seed", /integer/],
    [{ ...ok, stop: [1] }, "stop", /strings/],
    [{ ...ok, stop: ["a", "b", "c", "d", "e"] }, "stop", /at most 4/],
    [{ ...ok, stop: [""] }, "stop", /empty/],
    [{ ...ok, n: 2 }, "n", /only n = 1/],
    [{ ...ok, stream: "yes" }, "stream", /boolean/],
    [{ ...ok, stream_options: { include_usage: true } }, "stream_options", /stream is true/],
    [{ ...ok, model: 5 }, "model", /string/],
    [{ ...ok, tools: [{}] }, "tools", /not supported/],
  ])("rejects %j at %s", (body, param, message) => {
    const err = fail(body);
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message).toMatch(message);
  });

  test("error messages never echo the prompt text", () => {
    const err = fail({ messages: [{ role: "wizard", content: "my secret prompt" }] });
    expect(err.message).not.toContain("my secret prompt");
  });
});
