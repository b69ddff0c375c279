import { describe, expect, test } from "vitest";
import { memoDetokenize } from "../../src/engine/llama-engine.js";
import { createTokenDecoder, dropIncompleteTail } from "../../src/engine/text-stream.js";

/** A byte-level model: token = one UTF-8 byte, like the embedded model's GPT-2 byte tokens. */
function byteModel() {
  let calls = 0;
  return {
    calls: () => calls,
    detokenize(tokens: readonly number[]): string {
      calls++;
      return Buffer.from(tokens).toString("utf8");
    },
  };
}

describe("memoDetokenize with the token decoder", () => {
  test("never splits é, emoji or CJK characters fed one byte-token at a time", () => {
    const model = byteModel();
    const decoder = createTokenDecoder(memoDetokenize(model as never));
    const text = "é👋世界 ok ñ😀";
    const pieces = [...Buffer.from(text)].map((b) => decoder.push(b));
    pieces.push(decoder.flush());
    expect(pieces.join("")).toBe(text);
    for (const p of pieces) expect(p).not.toContain("\uFFFD");
  });

  test("detokenizes each completed token once instead of twice", () => {
    const model = byteModel();
    const decoder = createTokenDecoder(memoDetokenize(model as never));
    for (const b of Buffer.from("abcdefgh")) decoder.push(b);
    expect(model.calls()).toBe(8);
  });

  test("asks the model again when the held tokens change", () => {
    const model = byteModel();
    const detok = memoDetokenize(model as never);
    const held = [0xc3];
    const ctx: number[] = [];
    expect(detok(held, ctx)).toBe("\uFFFD");
    held.push(0xa9);
    expect(detok(held, ctx)).toBe("é");
    expect(model.calls()).toBe(2);
  });
});

describe("the end of a generation cut inside a character", () => {
  test("drops the incomplete last character instead of emitting U+FFFD", () => {
    const decoder = createTokenDecoder(memoDetokenize(byteModel() as never));
    const pieces = [...Buffer.from("ok 世")].slice(0, -1).map((b) => decoder.push(b));
    pieces.push(dropIncompleteTail(decoder.flush()));
    expect(pieces.join("")).toBe("ok ");
  });

  test("keeps whole characters that were still held at the end", () => {
    const decoder = createTokenDecoder(memoDetokenize(byteModel() as never));
    const pieces = [...Buffer.from("a é")].map((b) => decoder.push(b));
    pieces.push(dropIncompleteTail(decoder.flush()));
    expect(pieces.join("")).toBe("a é");
  });
});
