import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createStreamRecorder } from "../../src/harness/load/stream-recorder.js";

const event = (o: object) => `data: ${JSON.stringify(o)}\n\n`;

function stream(pieces: string[], tokens: number): Buffer {
  return Buffer.from(
    event({ choices: [{ delta: { role: "assistant", content: "" } }] }) +
      pieces.map((p) => event({ choices: [{ delta: { content: p } }] })).join("") +
      event({ choices: [{ delta: {}, finish_reason: "length" }], timings: { total_ms: 9, ttft_ms: 2, queue_ms: 0 } }) +
      event({ choices: [], usage: { prompt_tokens: 3, completion_tokens: tokens } }) +
      "data: [DONE]\n\n",
  );
}

describe("createStreamRecorder (property)", () => {
  test("gives the same text, usage, timings and verdict however the bytes are split", () => {
    fc.assert(fc.property(
      fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (pieces, cuts) => {
        const bytes = stream(pieces, pieces.length);
        const whole = createStreamRecorder(0);
        whole.push(bytes, 1);
        const expected = whole.end();
        const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
        const split = createStreamRecorder(0);
        let prev = 0;
        for (const [k, p] of [...points, bytes.length].entries()) {
          split.push(bytes.subarray(prev, p), k + 1);
          prev = p;
        }
        const got = split.end();
        expect(got.answer).toEqual(expected.answer);
        expect(got.answer.text).toBe(pieces.join(""));
        expect(got.server).toEqual(expected.server);
        expect(got.error).toBeNull();
        expect(got.itlMs).toHaveLength(pieces.filter((p) => p !== "").length - 1);
      },
    ));
  });
});
