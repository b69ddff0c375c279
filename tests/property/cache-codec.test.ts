import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeRecord, encodeRecord, RECORD_MAGIC } from "../../src/cache/record-codec.js";
import type { CacheRecord } from "../../src/cache/record-codec.js";

const hex64 = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 });
const anyText = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));
const record: fc.Arbitrary<CacheRecord> = fc.record({
  key: hex64,
  fingerprint: fc.oneof(hex64, anyText),
  createdAt: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  value: fc.record({
    text: anyText,
    finishReason: fc.constantFrom("stop" as const, "length" as const),
    promptTokens: fc.nat(),
    completionTokens: fc.nat(),
  }),
});
const MAX = 1 << 20;

describe("record-codec (properties)", () => {
  test("every valid record decodes back to itself", () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(decodeRecord(encodeRecord(r), { fingerprint: r.fingerprint, maxBytes: MAX, key: r.key })).toEqual({
          ok: true,
          record: r,
        });
      }),
    );
  });

  test("arbitrary bytes, with or without the magic line, never throw and are never accepted", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from(RECORD_MAGIC, "latin1"), b])),
    );
    fc.assert(
      fc.property(bytes, hex64, (b, fp) => {
        const result = decodeRecord(Buffer.from(b), { fingerprint: fp, maxBytes: MAX });
        expect(result.ok).toBe(false);
      }),
    );
  });

  test("overwriting a few bytes of a valid record is either a no-op or rejected, never another value", () => {
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(record, edits, (r, changes) => {
        const good = encodeRecord(r);
        const bad = Buffer.from(good);
        for (const [at, value] of changes) bad[at % bad.length] = value;
        const result = decodeRecord(bad, { fingerprint: r.fingerprint, maxBytes: MAX, key: r.key });
        if (result.ok) {
          expect(bad.equals(good)).toBe(true);
          expect(result.record).toEqual(r);
        }
      }),
      { numRuns: 500 },
    );
  });
});
