import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readGgufHeader } from "../../src/engine/gguf/header.js";
import { bytesToUnicode } from "../../src/engine/gguf/gpt2-bytes.js";
import { buildTinyTokenizer, CHATML_TEMPLATE } from "../../src/engine/gguf/tokenizer.js";
import { TINY_MODEL_PRESETS, writeTinyModel } from "../../src/engine/gguf/writer.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gguf-writer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function headerOf(buf: Buffer, name: string) {
  const path = join(dir, name);
  await writeFile(path, buf);
  return readGgufHeader(path);
}

describe("gpt2-bytes", () => {
  test("bytesToUnicode maps all 256 bytes to distinct printable symbols like GPT-2", () => {
    const map = bytesToUnicode();
    expect(map).toHaveLength(256);
    expect(new Set(map).size).toBe(256);
    expect(map[0x41]).toBe("A");
    expect(map[0x20]).toBe("\u0120"); // "Ġ"
    expect(map[0x0a]).toBe("\u010a"); // "Ċ"
    expect(map[0x00]).toBe("\u0100");
    expect(map[0xff]).toBe("\u00ff");
  });
});

describe("tokenizer", () => {
  test("the first 256 tokens are the GPT-2 byte symbols with id equal to the byte value", () => {
    const tok = buildTinyTokenizer();
    expect(tok.tokens.slice(0, 256)).toEqual(bytesToUnicode());
  });

  test("every merge joins two existing tokens into a token that is in the vocabulary", () => {
    const tok = buildTinyTokenizer();
    const vocab = new Set(tok.tokens);
    expect(tok.merges.length).toBeGreaterThan(0);
    for (const merge of tok.merges) {
      const [a, b, ...rest] = merge.split(" ");
      expect(rest).toEqual([]);
      expect(vocab.has(a ?? "")).toBe(true);
      expect(vocab.has(b ?? "")).toBe(true);
      expect(vocab.has(`${a}${b}`)).toBe(true);
    }
  });

  test("control tokens are typed 3 and everything else 1, with bos, eos and padding ids set", () => {
    const tok = buildTinyTokenizer();
    expect(tok.tokens[tok.bosId]).toBe("<|endoftext|>");
    expect(tok.tokens[tok.eosId]).toBe("<|im_end|>");
    expect(tok.tokens[tok.imStartId]).toBe("<|im_start|>");
    expect(tok.paddingId).toBe(tok.bosId);
    tok.tokens.forEach((t, i) => {
      expect(tok.tokenTypes[i]).toBe(t.startsWith("<|") ? 3 : 1);
    });
  });

  test("the multi-byte variant adds whole-character and part-character tokens for é, CJK and emoji", () => {
    const tok = buildTinyTokenizer({ multiByte: true });
    const symbols = bytesToUnicode();
    const bytesOf = (t: string) => Buffer.from([...t].map((ch) => symbols.indexOf(ch)));
    const texts = tok.tokens.slice(0, tok.bosId).map((t) => bytesOf(t));
    const has = (b: number[]) => texts.some((x) => x.equals(Buffer.from(b)));
    for (const ch of ["é", "世", "界", "👋", "😀"]) expect(has([...Buffer.from(ch)])).toBe(true);
    // Parts that need exactly one more byte: the generator may emit them, then a continuation byte.
    expect(has([0xe4, 0xb8])).toBe(true);
    expect(has([0xf0, 0x9f, 0x91])).toBe(true);
    for (const [id, kind] of tok.kinds.entries()) {
      const b = texts[id];
      if (kind === "lead") expect(b && Buffer.concat([b, Buffer.of(0x80)]).toString("utf8")).not.toContain("\uFFFD");
      if (kind === "continuation") expect(b && b.length === 1 && b[0]! >= 0x80 && b[0]! <= 0xbf).toBe(true);
      if (kind === "text") expect(b?.toString("utf8")).not.toContain("\uFFFD");
    }
    expect(tok.kinds[0xc3]).toBe("lead");
    expect(tok.kinds[0xa9]).toBe("continuation");
    expect(tok.kinds[0xc2]).toBe("never"); // C2 + continuation would be a C1 control character
    expect(tok.kinds[0x0a]).toBe("never");
    expect(tok.kinds[0x41]).toBe("text");
  });

  test("the default tokenizer is unchanged by the multi-byte variant's existence", () => {
    const tok = buildTinyTokenizer();
    expect(tok.tokens).toEqual(buildTinyTokenizer({ multiByte: false }).tokens);
    expect(tok.tokens).toHaveLength(256 + 16 + 3);
    expect(tok.kinds.filter((k) => k === "lead" || k === "continuation")).toEqual([]);
  });

  test("the chat template is ChatML", () => {
    expect(CHATML_TEMPLATE).toContain("<|im_start|>");
    expect(CHATML_TEMPLATE).toContain("<|im_end|>");
    expect(CHATML_TEMPLATE).toContain("add_generation_prompt");
  });
});

describe("writer", () => {
  test("the same options give byte-identical output", () => {
    const a = writeTinyModel({ preset: "tiny", seed: 7 });
    const b = writeTinyModel({ preset: "tiny", seed: 7 });
    expect(a.equals(b)).toBe(true);
  });

  test("a different seed gives different weights", () => {
    const a = writeTinyModel({ preset: "tiny", seed: 1 });
    const b = writeTinyModel({ preset: "tiny", seed: 2 });
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
  });

  test("allowEos changes the file", () => {
    const a = writeTinyModel({ preset: "tiny", seed: 1 });
    const b = writeTinyModel({ preset: "tiny", seed: 1, allowEos: true });
    expect(a.equals(b)).toBe(false);
  });

  test("the presets have the documented dimensions", () => {
    expect(TINY_MODEL_PRESETS.tiny).toMatchObject({ embeddingLength: 64, blockCount: 2, headCount: 4 });
    expect(TINY_MODEL_PRESETS.small).toMatchObject({ embeddingLength: 256, blockCount: 4, headCount: 4 });
    expect(TINY_MODEL_PRESETS.medium).toMatchObject({ embeddingLength: 512, blockCount: 8, headCount: 8 });
  });

  test("the tiny preset is a llama GGUF v3 file whose header reads back with its metadata", async () => {
    const buf = writeTinyModel({ preset: "tiny", seed: 3, name: "round-trip" });
    const info = await headerOf(buf, "tiny.gguf");
    const tok = buildTinyTokenizer();
    expect(info).toMatchObject({
      version: 3,
      architecture: "llama",
      name: "round-trip",
      contextLength: 4096,
      embeddingLength: 64,
      blockCount: 2,
      vocabSize: tok.tokens.length,
      fileType: 0,
      alignment: 32,
      fileSize: buf.length,
      tensorCount: 3 + 2 * 9,
    });
    expect(info.metadata.get("tokenizer.ggml.model")).toBe("gpt2");
    expect(info.metadata.get("tokenizer.ggml.pre")).toBe("default");
    expect(info.metadata.get("tokenizer.chat_template")).toBe(CHATML_TEMPLATE);
    expect(info.metadata.get("tokenizer.ggml.add_bos_token")).toBe(false);
    expect(info.metadata.get("tokenizer.ggml.add_eos_token")).toBe(false);
    expect(info.metadata.get("tokenizer.ggml.eos_token_id")).toBe(tok.eosId);
    expect(info.metadata.get("llama.rope.dimension_count")).toBe(16);
    expect(info.metadata.get("llama.attention.head_count")).toBe(4);
    expect(info.metadata.get("llama.feed_forward_length")).toBe(192);
    expect(info.metadata.get("tokenizer.ggml.merges")).toEqual({
      kind: "array",
      elementType: "string",
      length: tok.merges.length,
    });
  });

  test("tensors are all f32 with the documented shapes, stored in order at aligned offsets", async () => {
    const buf = writeTinyModel({ preset: "tiny", seed: 3 });
    const info = await headerOf(buf, "shapes.gguf");
    const v = buildTinyTokenizer().tokens.length;
    const byName = new Map(info.tensors.map((t) => [t.name, t]));
    expect(byName.get("token_embd.weight")?.dims).toEqual([64, v]);
    expect(byName.get("output.weight")?.dims).toEqual([64, v]);
    expect(byName.get("output_norm.weight")?.dims).toEqual([64]);
    expect(byName.get("blk.1.attn_q.weight")?.dims).toEqual([64, 64]);
    expect(byName.get("blk.1.ffn_gate.weight")?.dims).toEqual([64, 192]);
    expect(byName.get("blk.1.ffn_down.weight")?.dims).toEqual([192, 64]);
    for (const t of info.tensors) {
      expect(t.typeName).toBe("F32");
      expect(t.offset % 32).toBe(0);
    }
    const last = info.tensors[info.tensors.length - 1];
    expect(last && last.offset + last.byteSize).toBe(buf.length);
  });

  test("residual channel 0 is constant: embedding channel 0 is 1 and row 0 of attn_output and ffn_down is 0", async () => {
    const buf = writeTinyModel({ preset: "tiny", seed: 5 });
    const info = await headerOf(buf, "residual.gguf");
    const f32 = (name: string): Float32Array => {
      const t = info.tensors.find((x) => x.name === name);
      if (!t) throw new Error(`missing ${name}`);
      const copy = Buffer.from(buf.subarray(t.offset, t.offset + t.byteSize));
      return new Float32Array(copy.buffer, copy.byteOffset, t.byteSize / 4);
    };
    const embd = f32("token_embd.weight");
    for (let tok = 0; tok < embd.length / 64; tok++) expect(embd[tok * 64]).toBe(1);
    expect(Array.from(f32("blk.0.attn_output.weight").subarray(0, 64)).every((x) => x === 0)).toBe(true);
    expect(Array.from(f32("blk.1.ffn_down.weight").subarray(0, 192)).every((x) => x === 0)).toBe(true);
    expect(Array.from(f32("blk.0.attn_q.weight")).some((x) => x !== 0)).toBe(true);
    expect(Array.from(f32("output_norm.weight")).every((x) => x === 1)).toBe(true);
  });

  test("control and non-printable tokens get a large negative output weight on channel 0, printable ones do not", async () => {
    const tok = buildTinyTokenizer();
    for (const allowEos of [false, true]) {
      const buf = writeTinyModel({ preset: "tiny", seed: 5, allowEos });
      const info = await headerOf(buf, `out-${allowEos}.gguf`);
      const t = info.tensors.find((x) => x.name === "output.weight");
      if (!t) throw new Error("missing output.weight");
      const ch0 = (id: number) => buf.readFloatLE(t.offset + id * 64 * 4);
      expect(ch0(tok.bosId)).toBeLessThan(-100);
      expect(ch0(tok.imStartId)).toBeLessThan(-100);
      expect(ch0(0x0a)).toBeLessThan(-100);
      expect(ch0(0xc3)).toBeLessThan(-100);
      expect(ch0(0x41)).toBeGreaterThan(-1);
      if (allowEos) expect(ch0(tok.eosId)).toBeGreaterThan(-1);
      else expect(ch0(tok.eosId)).toBeLessThan(-100);
    }
  });

  test("the multi-byte variant routes channel 1: part-character tokens point to continuation bytes, everything else away from them", async () => {
    const tok = buildTinyTokenizer({ multiByte: true });
    const buf = writeTinyModel({ preset: "tiny", seed: 5, multiByte: true });
    const info = await headerOf(buf, "utf8.gguf");
    const f32 = (name: string): Float32Array => {
      const t = info.tensors.find((x) => x.name === name);
      if (!t) throw new Error(`missing ${name}`);
      const copy = Buffer.from(buf.subarray(t.offset, t.offset + t.byteSize));
      return new Float32Array(copy.buffer, copy.byteOffset, t.byteSize / 4);
    };
    expect(info.vocabSize).toBe(tok.tokens.length);
    const embd = f32("token_embd.weight");
    const out = f32("output.weight");
    for (const [id, kind] of tok.kinds.entries()) {
      expect(embd[id * 64 + 1]).toBe(kind === "lead" ? 1 : -1);
      if (kind === "continuation") expect(out[id * 64 + 1]).toBeGreaterThan(50);
      else if (kind !== "never") expect(out[id * 64 + 1]).toBeLessThan(-50);
      if (kind === "never") expect(out[id * 64]).toBeLessThan(-100);
      else expect(out[id * 64]).toBeGreaterThan(-10);
    }
    // Channel 1 carries only the embedding: row 1 of attn_output and ffn_down is zero too.
    expect(Array.from(f32("blk.1.attn_output.weight").subarray(64, 128)).every((x) => x === 0)).toBe(true);
    expect(Array.from(f32("blk.0.ffn_down.weight").subarray(192, 384)).every((x) => x === 0)).toBe(true);
  });

  test("multiByte false writes the very same file as the default", () => {
    expect(writeTinyModel({ preset: "tiny", seed: 4, multiByte: false }).equals(writeTinyModel({ preset: "tiny", seed: 4 }))).toBe(true);
    expect(writeTinyModel({ preset: "tiny", seed: 4, multiByte: true }).equals(writeTinyModel({ preset: "tiny", seed: 4 }))).toBe(false);
  });

  test("custom dimensions, context length and head count are written", async () => {
    const buf = writeTinyModel({ embeddingLength: 32, blockCount: 1, headCount: 2, contextLength: 512, seed: 9 });
    const info = await headerOf(buf, "custom.gguf");
    expect(info).toMatchObject({ embeddingLength: 32, blockCount: 1, contextLength: 512, tensorCount: 12 });
    expect(info.metadata.get("llama.rope.dimension_count")).toBe(16);
  });

  test("invalid dimensions are rejected with a message that says what to fix", () => {
    expect(() => writeTinyModel({ embeddingLength: 30, headCount: 4 })).toThrow(/embeddingLength .*divisible by headCount/);
    expect(() => writeTinyModel({ blockCount: 0 })).toThrow(/blockCount/);
    expect(() => writeTinyModel({ seed: 1.5 })).toThrow(/seed/);
  });
});
