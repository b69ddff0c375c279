import { describe, expect, test } from "vitest";
import { checkAnswer, describeDifference } from "../../src/harness/runner/answer-check.js";

const ref = { text: "The sea is deep.", finishReason: "length", completionTokens: 6, promptTokens: 9 };

describe("checkAnswer", () => {
  test("accepts an answer equal to its reference", () => {
    expect(checkAnswer({ ...ref }, ref)).toEqual({ ok: true });
  });

  test("calls a different text wrong and says where it differs", () => {
    const r = checkAnswer({ ...ref, text: "The sea is wide." }, ref);
    expect(r).toEqual({ ok: false, reason: 'text differs from the reference at character 12: "wide." vs "deep."' });
  });

  test("calls a different finish reason or token count wrong even with the same text", () => {
    expect(checkAnswer({ ...ref, finishReason: "stop" }, ref)).toEqual({ ok: false, reason: "finish_reason stop, reference length" });
    expect(checkAnswer({ ...ref, completionTokens: 7 }, ref)).toEqual({ ok: false, reason: "completion_tokens 7, reference 6" });
  });

  test("rejects an answer without a finish reason or usage as invalid", () => {
    expect(checkAnswer({ ...ref, finishReason: null }, ref)).toEqual({ ok: false, reason: "no finish_reason in the answer" });
    expect(checkAnswer({ ...ref, completionTokens: null }, ref)).toEqual({ ok: false, reason: "no usage.completion_tokens in the answer" });
  });

  test("with no reference only checks that the answer is well formed", () => {
    expect(checkAnswer({ ...ref, text: "anything" }, null)).toEqual({ ok: true });
    expect(checkAnswer({ ...ref, finishReason: null }, null)).toMatchObject({ ok: false });
  });
});

describe("describeDifference", () => {
  test("points at the end of the shorter text when one is a prefix of the other", () => {
    expect(describeDifference("abc", "abcdef")).toBe('text differs from the reference at character 4: "" vs "def"');
  });
});
