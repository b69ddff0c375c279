import { describe, expect, test } from "vitest";
import { createStreamRecorder } from "../../src/harness/load/stream-recorder.js";

const chunk = (delta: object, extra: object = {}, finish: string | null = null) =>
  Buffer.from(`data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
const done = Buffer.from("data: [DONE]\n\n");

describe("createStreamRecorder", () => {
  test("times TTFT from the first content chunk, not the role chunk, and ITL between content chunks", () => {
    const r = createStreamRecorder(100);
    r.push(chunk({ role: "assistant", content: "" }), 105);
    r.push(chunk({ content: "He" }), 130);
    r.push(chunk({ content: "llo" }), 134);
    r.push(chunk({ content: "!" }), 141);
    r.push(chunk({}, { timings: { total_ms: 40, ttft_ms: 29, queue_ms: 1 } }, "length"), 142);
    r.push(Buffer.from(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } })}\n\n`), 142);
    r.push(done, 143);
    const out = r.end();
    expect(out.ttftMs).toBe(30);
    expect(out.itlMs).toEqual([4, 7]);
    expect(out.answer).toEqual({ text: "Hello!", finishReason: "length", completionTokens: 3, promptTokens: 5 });
    expect(out.server).toEqual({ totalMs: 40, ttftMs: 29, queueMs: 1 });
    expect(out.error).toBeNull();
  });

  test("takes token counts only from usage, never from the number of chunks", () => {
    const r = createStreamRecorder(0);
    r.push(Buffer.concat([chunk({ content: "a" }), chunk({ content: "b" }), chunk({}, {}, "stop"), done]), 5);
    expect(r.end().answer.completionTokens).toBeNull();
  });

  test("gives chunks that arrive in one read the same time", () => {
    const r = createStreamRecorder(0);
    r.push(Buffer.concat([chunk({ content: "a" }), chunk({ content: "b" })]), 9);
    r.push(Buffer.concat([chunk({}, {}, "stop"), done]), 10);
    const out = r.end();
    expect(out.ttftMs).toBe(9);
    expect(out.itlMs).toEqual([0]);
  });

  test("handles events split anywhere, even inside a UTF-8 character", () => {
    const whole = Buffer.concat([chunk({ content: "é✓" }), chunk({}, {}, "stop"), done]);
    const r = createStreamRecorder(0);
    for (let i = 0; i < whole.length; i++) r.push(whole.subarray(i, i + 1), i);
    expect(r.end()).toMatchObject({ answer: { text: "é✓" }, error: null });
  });

  test("reports an error event, a missing [DONE] and a broken chunk", () => {
    const errored = createStreamRecorder(0);
    errored.push(Buffer.concat([chunk({ content: "a" }), Buffer.from('event: error\ndata: {"error":{"message":"x"}}\n\n')]), 1);
    expect(errored.end().error).toBe("stream-error");
    const cut = createStreamRecorder(0);
    cut.push(chunk({ content: "a" }), 1);
    expect(cut.end().error).toBe("incomplete-stream");
    const broken = createStreamRecorder(0);
    broken.push(Buffer.concat([Buffer.from("data: {nope\n\n"), done]), 1);
    expect(broken.end().error).toBe("bad-chunk");
  });
});
