import { describe, expect, test } from "vitest";
import { createStopMatcher, createTokenDecoder } from "../../src/engine/text-stream.js";

/** A byte-level fake detokenizer: each "token" is one byte of UTF-8. */
function byteDetok(tokens: readonly number[]): string {
  return Buffer.from(tokens).toString("utf8");
}

describe("createTokenDecoder", () => {
  test("holds back incomplete multi-byte characters until they are whole", () => {
    const dec = createTokenDecoder(byteDetok);
    const bytes = [...Buffer.from("é👋世")];
    const out: string[] = [];
    for (const b of bytes) out.push(dec.push(b));
    out.push(dec.flush());
    expect(out.join("")).toBe("é👋世");
    for (const piece of out) expect(piece).not.toContain("\uFFFD");
  });

  test("emits plain ASCII immediately", () => {
    const dec = createTokenDecoder(byteDetok);
    expect(dec.push(0x61)).toBe("a");
    expect(dec.push(0x62)).toBe("b");
  });

  test("gives up holding after a bounded number of tokens and emits the replacement character", () => {
    const dec = createTokenDecoder(byteDetok);
    let text = "";
    for (let i = 0; i < 10; i++) text += dec.push(0xff);
    text += dec.flush();
    expect(text).toBe("\uFFFD".repeat(10));
  });
});

describe("createStopMatcher", () => {
  test("passes text through when there are no stop strings", () => {
    const m = createStopMatcher([]);
    expect(m.push("hello")).toEqual({ text: "hello", stopped: false });
  });

  test("stops before a stop string that spans two pieces and never emits it", () => {
    const m = createStopMatcher(["END"]);
    const a = m.push("abcE");
    expect(a).toEqual({ text: "abc", stopped: false });
    const b = m.push("NDxyz");
    expect(b).toEqual({ text: "", stopped: true });
  });

  test("releases held text when the stop string does not follow", () => {
    const m = createStopMatcher(["END"]);
    expect(m.push("xE").text).toBe("x");
    expect(m.push("Nq").text).toBe("ENq");
    expect(m.flush()).toBe("");
  });

  test("flush returns text still held at the end of generation", () => {
    const m = createStopMatcher(["END"]);
    m.push("abEN");
    expect(m.flush()).toBe("EN");
  });

  test("picks the earliest of several stop strings", () => {
    const m = createStopMatcher(["zz", "b"]);
    expect(m.push("aazzb")).toEqual({ text: "aa", stopped: true });
  });

  test("the concatenated output equals the text up to the first stop string", () => {
    const full = "the quick brown fox jumps";
    for (let cut = 1; cut < full.length; cut++) {
      const m = createStopMatcher(["fox"]);
      let out = "";
      let stopped = false;
      for (const piece of [full.slice(0, cut), full.slice(cut)]) {
        const r = m.push(piece);
        out += r.text;
        if (r.stopped) { stopped = true; break; }
      }
      if (!stopped) out += m.flush();
      expect(out).toBe("the quick brown ");
      expect(stopped).toBe(true);
    }
  });
});
