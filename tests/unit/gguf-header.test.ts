import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GGML_TYPES, ggmlTensorBytes } from "../../src/engine/gguf/constants.js";
import { GgufFormatError } from "../../src/engine/gguf/errors.js";
import { readGgufHeader } from "../../src/engine/gguf/header.js";
import { writeTinyModel } from "../../src/engine/gguf/writer.js";

let dir = "";
let base: Buffer = Buffer.alloc(0);
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gguf-header-"));
  base = writeTinyModel({ embeddingLength: 32, blockCount: 1, headCount: 2, seed: 11 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(buf: Buffer, options?: { maxHeaderBytes?: number; readChunkBytes?: number }) {
  const path = join(dir, `f${counter++}.gguf`);
  await writeFile(path, buf);
  return readGgufHeader(path, options);
}

/** Reads the header of `buf` and returns the GgufFormatError it must throw. */
async function failure(buf: Buffer, options?: { maxHeaderBytes?: number }): Promise<GgufFormatError> {
  try {
    await read(buf, options);
  } catch (err) {
    expect(err).toBeInstanceOf(GgufFormatError);
    const e = err as GgufFormatError;
    expect(e.message).not.toContain(dir);
    return e;
  }
  throw new Error("expected readGgufHeader to fail");
}

function patched(fn: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(base);
  fn(copy);
  return copy;
}

/** Byte position of a tensor's n_dims field (just after its name in the tensor infos). */
function nDimsPos(buf: Buffer, name: string): number {
  const needle = Buffer.concat([Buffer.alloc(8), Buffer.from(name)]);
  needle.writeBigUInt64LE(BigInt(name.length), 0);
  const at = buf.indexOf(needle);
  if (at < 0) throw new Error(`tensor ${name} not found`);
  return at + needle.length;
}

/** Byte position of the value type of metadata key `key`. */
function kvTypePos(buf: Buffer, key: string): number {
  const needle = Buffer.concat([Buffer.alloc(8), Buffer.from(key)]);
  needle.writeBigUInt64LE(BigInt(key.length), 0);
  const at = buf.indexOf(needle);
  if (at < 0) throw new Error(`key ${key} not found`);
  return at + needle.length;
}

describe("ggml tensor sizes", () => {
  test.each([
    ["F32", [64, 3], 768],
    ["F16", [64, 3], 384],
    ["BF16", [64, 3], 384],
    ["Q8_0", [64, 3], 2 * 34 * 3],
    ["Q4_0", [64, 3], 2 * 18 * 3],
    ["Q4_1", [64, 3], 2 * 20 * 3],
    ["Q5_0", [64, 3], 2 * 22 * 3],
    ["Q5_1", [64, 3], 2 * 24 * 3],
    ["Q2_K", [512, 2], 2 * 84 * 2],
    ["Q3_K", [512, 2], 2 * 110 * 2],
    ["Q4_K", [512, 2], 2 * 144 * 2],
    ["Q5_K", [512, 2], 2 * 176 * 2],
    ["Q6_K", [512, 2], 2 * 210 * 2],
  ] as const)("a %s tensor of shape %j takes %i bytes", (typeName, dims, bytes) => {
    const type = GGML_TYPES.findIndex((t) => t?.name === typeName);
    expect(type).toBeGreaterThanOrEqual(0);
    expect(ggmlTensorBytes(type, dims.map(BigInt))).toBe(BigInt(bytes));
  });
});

describe("header", () => {
  test("a generated file reads back with its summary", async () => {
    const info = await read(base);
    expect(info).toMatchObject({ version: 3, architecture: "llama", embeddingLength: 32, blockCount: 1, fileSize: base.length });
    expect(info.metadataKeyCount).toBe(info.metadata.size);
    expect(info.dataOffset % 32).toBe(0);
  });

  test("reading through a 1-byte read-ahead window gives the same result as the default window", async () => {
    const whole = await read(base);
    const byteByByte = await read(base, { readChunkBytes: 1 });
    expect(byteByByte).toEqual(whole);
  });

  test("a version 2 file is accepted", async () => {
    const info = await read(patched((b) => b.writeUInt32LE(2, 4)));
    expect(info.version).toBe(2);
  });

  test("a file that does not start with GGUF is not a GGUF file", async () => {
    const e = await failure(patched((b) => b.write("PK\u0003\u0004", 0, "latin1")));
    expect(e.code).toBe("bad-magic");
    expect(e.message).toMatch(/not a GGUF file \(magic bytes are 50 4b 03 04/);
  });

  test("an old GGML/GGJT file is named as such", async () => {
    const e = await failure(patched((b) => b.write("tjgg", 0, "latin1")));
    expect(e.message).toMatch(/GGML|GGJT/);
  });

  test.each([
    [0, /version 0/],
    [1, /version 1 .*convert/],
    [4, /version 4/],
    [0x03000000, /big-endian/],
  ])("version %i is rejected", async (version, message) => {
    const e = await failure(patched((b) => b.writeUInt32LE(version, 4)));
    expect(e.code).toBe("bad-version");
    expect(e.message).toMatch(message);
  });

  test("truncation at any length gives a GgufFormatError, never success", async () => {
    const info = await read(base);
    const cuts = new Set<number>([0, 1, 3, 4, 5, 8, 12, 16, 20, 24, 25, 40, 100, 1000, 3000]);
    for (let i = 0; i < 40; i++) cuts.add(Math.floor((info.dataOffset * i) / 40));
    [info.dataOffset - 1, info.dataOffset, info.dataOffset + 1, base.length >> 1, base.length - 4, base.length - 1].forEach((c) =>
      cuts.add(c),
    );
    for (const cut of cuts) {
      const e = await failure(base.subarray(0, cut));
      expect(e.message).toMatch(/truncated|not a GGUF file|empty/);
    }
  });

  test("truncation inside the data names the tensor that is cut", async () => {
    const e = await failure(base.subarray(0, base.length - 10));
    expect(e.code).toBe("tensor-out-of-bounds");
    expect(e.message).toMatch(
      new RegExp(`tensor 'output.weight' data ends at byte ${base.length} but the file has ${base.length - 10} bytes \\(truncated download\\?\\)`),
    );
  });

  test("a huge tensor count is rejected before reading further", async () => {
    const e = await failure(patched((b) => b.writeBigUInt64LE(1n << 62n, 8)));
    expect(e.code).toBe("bad-count");
    expect(e.message).toMatch(/tensor count/);
  });

  test("a huge metadata key count is rejected", async () => {
    const e = await failure(patched((b) => b.writeBigUInt64LE(1n << 40n, 16)));
    expect(e.code).toBe("bad-count");
    expect(e.message).toMatch(/metadata key count/);
  });

  test("a huge key length is rejected", async () => {
    const e = await failure(patched((b) => b.writeBigUInt64LE(1n << 62n, 24)));
    expect(e.message).toMatch(/length/);
  });

  test("a huge array length is rejected without iterating", async () => {
    const pos = kvTypePos(base, "tokenizer.ggml.tokens");
    const e = await failure(patched((b) => b.writeBigUInt64LE(1n << 60n, pos + 8)));
    expect(e.message).toMatch(/tokenizer\.ggml\.tokens.*elements/);
  });

  test("an unknown metadata value type is rejected with the key name", async () => {
    const e = await failure(patched((b) => b.writeUInt32LE(77, kvTypePos(b, "general.name"))));
    expect(e.code).toBe("bad-value-type");
    expect(e.message).toMatch(/'general.name'.*type 77/);
  });

  test("a nested array is rejected", async () => {
    const pos = kvTypePos(base, "tokenizer.ggml.merges");
    const e = await failure(patched((b) => b.writeUInt32LE(9, pos + 4)));
    expect(e.message).toMatch(/array/);
  });

  test("n_dims 0xFFFFFFFF fails fast", async () => {
    const e = await failure(patched((b) => b.writeUInt32LE(0xffffffff, nDimsPos(b, "token_embd.weight"))));
    expect(e.code).toBe("bad-tensor");
    expect(e.message).toMatch(/'token_embd.weight'.*4294967295 dimensions.*1 to 4/);
  });

  test("n_dims 0 is rejected", async () => {
    const e = await failure(patched((b) => b.writeUInt32LE(0, nDimsPos(b, "token_embd.weight"))));
    expect(e.message).toMatch(/0 dimensions/);
  });

  test("a zero dimension is rejected", async () => {
    const e = await failure(patched((b) => b.writeBigUInt64LE(0n, nDimsPos(b, "output_norm.weight") + 4)));
    expect(e.message).toMatch(/'output_norm.weight'.*dimension/);
  });

  test("dimensions whose product overflows are rejected", async () => {
    const e = await failure(
      patched((b) => {
        const p = nDimsPos(b, "token_embd.weight");
        b.writeBigUInt64LE(1n << 40n, p + 4);
        b.writeBigUInt64LE(1n << 40n, p + 12);
      }),
    );
    expect(e.message).toMatch(/'token_embd.weight'/);
  });

  test("an unknown ggml type is rejected", async () => {
    const e = await failure(patched((b) => b.writeUInt32LE(99, nDimsPos(b, "output_norm.weight") + 4 + 8)));
    expect(e.code).toBe("bad-tensor");
    expect(e.message).toMatch(/'output_norm.weight'.*unknown ggml type 99/);
  });

  test("a removed ggml type is rejected", async () => {
    const e = await failure(patched((b) => b.writeUInt32LE(4, nDimsPos(b, "output_norm.weight") + 4 + 8)));
    expect(e.message).toMatch(/type 4/);
  });

  test("a row length that is not a multiple of the type's block size is rejected", async () => {
    const q4k = GGML_TYPES.findIndex((t) => t?.name === "Q4_K");
    const e = await failure(patched((b) => b.writeUInt32LE(q4k, nDimsPos(b, "output_norm.weight") + 4 + 8)));
    expect(e.message).toMatch(/'output_norm.weight'.*block size 256/);
  });

  test("a tensor offset that is not aligned is rejected", async () => {
    const e = await failure(
      patched((b) => {
        const p = nDimsPos(b, "output_norm.weight") + 4 + 8 + 4;
        b.writeBigUInt64LE(b.readBigUInt64LE(p) + 4n, p);
      }),
    );
    expect(e.code).toBe("bad-tensor");
    expect(e.message).toMatch(/'output_norm.weight'.*(align|offset)/);
  });

  test("a tensor offset far past the end of the file is rejected", async () => {
    const e = await failure(
      patched((b) => b.writeBigUInt64LE(1n << 50n, nDimsPos(b, "output_norm.weight") + 4 + 8 + 4)),
    );
    expect(e.message).toMatch(/'output_norm.weight'/);
  });

  test("a tensor name longer than 63 bytes is rejected", async () => {
    const e = await failure(patched((b) => b.writeBigUInt64LE(64n, nDimsPos(b, "token_embd.weight") - 8 - 17)));
    expect(e.message).toMatch(/tensor name .*64 bytes/);
  });

  test("a duplicate tensor name is rejected", async () => {
    const e = await failure(
      patched((b) => {
        const p = nDimsPos(b, "blk.0.attn_k.weight") - "blk.0.attn_k.weight".length;
        b.write("blk.0.attn_q.weight", p, "latin1");
      }),
    );
    expect(e.message).toMatch(/duplicate tensor name 'blk.0.attn_q.weight'/);
  });

  test("a duplicate metadata key is rejected", async () => {
    // "llama.block_count" and "general.file_type" have the same length: overwrite one with the other
    const e = await failure(
      patched((b) => b.write("general.file_type", kvTypePos(b, "llama.block_count") - 17, "latin1")),
    );
    expect(e.message).toMatch(/duplicate metadata key 'general.file_type'/);
  });

  test("an alignment that is not a power of two is rejected", async () => {
    const e = await failure(patched((b) => b.writeUInt32LE(48, kvTypePos(b, "general.alignment") + 4)));
    expect(e.message).toMatch(/general.alignment.*power of two/);
  });

  test("a missing architecture is reported", async () => {
    const e = await failure(patched((b) => b.write("x", kvTypePos(b, "general.architecture") - 1, "latin1")));
    expect(e.message).toMatch(/general.architecture/);
  });

  test("an empty file is reported as empty", async () => {
    const e = await failure(Buffer.alloc(0));
    expect(e.message).toMatch(/empty/);
  });

  test("a header larger than the cap is rejected", async () => {
    const e = await failure(base, { maxHeaderBytes: 512 });
    expect(e.code).toBe("header-too-large");
    expect(e.message).toMatch(/512/);
  });

  test("a missing file is a GgufFormatError without the absolute path", async () => {
    const err = await readGgufHeader(join(dir, "does-not-exist.gguf")).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(GgufFormatError);
    expect((err as GgufFormatError).code).toBe("io");
    expect((err as Error).message).not.toContain(dir);
    expect((err as Error).message).toMatch(/does-not-exist\.gguf/);
  });
});
