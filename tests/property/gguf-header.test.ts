import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GgufFormatError } from "../../src/engine/gguf/errors.js";
import { readGgufHeader } from "../../src/engine/gguf/header.js";
import { writeTinyModel } from "../../src/engine/gguf/writer.js";

let dir = "";
let base: Buffer = Buffer.alloc(0);
let headerEnd = 0;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gguf-prop-"));
  base = writeTinyModel({ embeddingLength: 32, blockCount: 1, headCount: 2, seed: 3 });
  const path = join(dir, "base.gguf");
  await writeFile(path, base);
  headerEnd = (await readGgufHeader(path)).dataOffset;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Edit = { kind: "xor"; pos: number; mask: number } | { kind: "fill"; pos: number; len: number; byte: number };

const editArb = (maxPos: () => number): fc.Arbitrary<Edit> =>
  fc.oneof(
    fc.record({ kind: fc.constant("xor" as const), pos: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({
      kind: fc.constant("fill" as const),
      pos: fc.nat(),
      len: fc.integer({ min: 1, max: 8 }),
      byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff),
    }),
  ).map((e) => ({ ...e, pos: e.pos % maxPos() }));

/** Small read-ahead windows exercise the incremental reading on every field boundary. */
const chunkArb = fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined });

function apply(edits: readonly Edit[], cut: number | undefined): Buffer {
  const buf = Buffer.from(base);
  for (const e of edits) {
    if (e.kind === "xor") buf[e.pos] = (buf[e.pos] ?? 0) ^ e.mask;
    else buf.fill(e.byte, e.pos, Math.min(e.pos + e.len, buf.length));
  }
  return cut === undefined ? buf : buf.subarray(0, cut);
}

/** Resolves to "ok" or "format-error"; anything else thrown fails the property. */
async function outcome(buf: Buffer, readChunkBytes?: number): Promise<"ok" | "format-error"> {
  const path = join(dir, `case-${counter++ % 4}.gguf`);
  await writeFile(path, buf);
  try {
    const info = await readGgufHeader(path, readChunkBytes === undefined ? {} : { readChunkBytes });
    expect(info.tensors).toHaveLength(info.tensorCount);
    for (const t of info.tensors) expect(t.offset + t.byteSize).toBeLessThanOrEqual(buf.length);
    return "ok";
  } catch (err) {
    if (err instanceof GgufFormatError) {
      expect(err.message.length).toBeGreaterThan(0);
      expect(err.message).not.toContain(dir);
      return "format-error";
    }
    throw err;
  }
}

describe("gguf-header", () => {
  test("truncating a generated file anywhere always gives a GgufFormatError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), chunkArb, async (n, inHeader, chunk) => {
        const cut = n % (inHeader ? headerEnd + 64 : base.length);
        expect(await outcome(base.subarray(0, cut), chunk)).toBe("format-error");
      }),
      { numRuns: 150 },
    );
  });

  test("corrupting header bytes either still reads or gives a GgufFormatError, never another error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(editArb(() => headerEnd + 64), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        chunkArb,
        async (edits, cutSeed, chunk) => {
          await outcome(apply(edits, cutSeed === undefined ? undefined : cutSeed % (base.length + 1)), chunk);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("corrupting bytes anywhere in the file either still reads or gives a GgufFormatError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(editArb(() => base.length), { minLength: 1, maxLength: 4 }), async (edits) => {
        await outcome(apply(edits, undefined));
      }),
      { numRuns: 100 },
    );
  });
});
