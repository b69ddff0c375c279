import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { decodeRecord, encodeRecord, RECORD_MAGIC } from "../../src/cache/record-codec.js";
import type { CacheRecord } from "../../src/cache/record-codec.js";

const FP = "f".repeat(64);
const KEY = "a".repeat(64);
const expectOk = { fingerprint: FP, maxBytes: 1 << 20 };

function record(overrides: Partial<CacheRecord> = {}): CacheRecord {
  return {
    key: KEY,
    fingerprint: FP,
    createdAt: 1_700_000_000_000,
    value: { text: "Hello, wörld — ✓ 🎉", finishReason: "stop", promptTokens: 12, completionTokens: 7 },
    ...overrides,
  };
}

/** Splits an encoded record into its magic, header JSON and payload parts. */
function parts(buf: Buffer): { header: Record<string, unknown>; payload: Buffer; headerEnd: number } {
  const headerStart = RECORD_MAGIC.length;
  const headerEnd = buf.indexOf(0x0a, headerStart);
  const header = JSON.parse(buf.subarray(headerStart, headerEnd).toString("utf8")) as Record<string, unknown>;
  return { header, payload: buf.subarray(headerEnd + 1), headerEnd };
}

/** Builds a record file with a valid checksum around an arbitrary payload and header overrides. */
function forge(payload: Buffer, header: Record<string, unknown> = {}): Buffer {
  const h = {
    v: 1,
    fp: FP,
    key: KEY,
    len: payload.length,
    sha256: createHash("sha256").update(payload).digest("hex"),
    ...header,
  };
  return Buffer.concat([Buffer.from(RECORD_MAGIC, "latin1"), Buffer.from(`${JSON.stringify(h)}\n`), payload]);
}

describe("record-codec", () => {
  test("a record survives an encode/decode round trip unchanged", () => {
    const rec = record();
    const result = decodeRecord(encodeRecord(rec), { ...expectOk, key: KEY });
    expect(result).toEqual({ ok: true, record: rec });
  });

  test("the encoding starts with the magic line and a header carrying version, fingerprint, length and checksum", () => {
    const buf = encodeRecord(record());
    expect(buf.subarray(0, RECORD_MAGIC.length).toString("latin1")).toBe(RECORD_MAGIC);
    const { header, payload } = parts(buf);
    expect(header).toMatchObject({ v: 1, fp: FP, key: KEY, len: payload.length });
    expect(header["sha256"]).toBe(createHash("sha256").update(payload).digest("hex"));
  });

  test("a fingerprint with non-ASCII characters is escaped so the header stays ASCII", () => {
    const fp = "modèle-✓";
    const buf = encodeRecord(record({ fingerprint: fp }));
    const headerLine = buf.subarray(0, parts(buf).headerEnd);
    expect([...headerLine].every((b) => b < 0x80)).toBe(true);
    expect(decodeRecord(buf, { fingerprint: fp, maxBytes: 1 << 20 }).ok).toBe(true);
  });

  test("encoding refuses a key that is not 64 lowercase hex characters", () => {
    expect(() => encodeRecord(record({ key: "../../etc/passwd" }))).toThrow(TypeError);
    expect(() => encodeRecord(record({ key: "A".repeat(64) }))).toThrow(TypeError);
  });

  test("encoding refuses negative or fractional token counts and an unknown finish reason", () => {
    const base = record().value;
    expect(() => encodeRecord(record({ value: { ...base, promptTokens: -1 } }))).toThrow(TypeError);
    expect(() => encodeRecord(record({ value: { ...base, completionTokens: 1.5 } }))).toThrow(TypeError);
    expect(() => encodeRecord(record({ value: { ...base, finishReason: "abort" as "stop" } }))).toThrow(TypeError);
  });

  test("an empty buffer and a cut inside the magic are truncated", () => {
    expect(decodeRecord(Buffer.alloc(0), expectOk)).toEqual({ ok: false, reason: "truncated" });
    expect(decodeRecord(Buffer.from(RECORD_MAGIC.slice(0, 4), "latin1"), expectOk)).toEqual({
      ok: false,
      reason: "truncated",
    });
  });

  test("a cut inside the header or the payload is truncated", () => {
    const buf = encodeRecord(record());
    const { headerEnd } = parts(buf);
    expect(decodeRecord(buf.subarray(0, headerEnd - 3), expectOk)).toEqual({ ok: false, reason: "truncated" });
    expect(decodeRecord(buf.subarray(0, buf.length - 1), expectOk)).toEqual({ ok: false, reason: "truncated" });
  });

  test("bytes that do not start with the magic are binary garbage", () => {
    expect(decodeRecord(Buffer.alloc(64), expectOk)).toEqual({ ok: false, reason: "binary-garbage" });
    expect(decodeRecord(Buffer.from('{"text":"hi"}'), expectOk)).toEqual({ ok: false, reason: "binary-garbage" });
  });

  test("trailing bytes after the declared payload are binary garbage", () => {
    const buf = Buffer.concat([encodeRecord(record()), Buffer.from("xx")]);
    expect(decodeRecord(buf, expectOk)).toEqual({ ok: false, reason: "binary-garbage" });
  });

  test("a control byte in the header is binary garbage", () => {
    const buf = Buffer.from(encodeRecord(record()));
    buf[RECORD_MAGIC.length + 1] = 0x00;
    expect(decodeRecord(buf, expectOk)).toEqual({ ok: false, reason: "binary-garbage" });
  });

  test("a non-ASCII byte in the header is invalid UTF-8", () => {
    const buf = Buffer.from(encodeRecord(record()));
    buf[RECORD_MAGIC.length + 2] = 0xc3;
    expect(decodeRecord(buf, expectOk)).toEqual({ ok: false, reason: "invalid-utf8" });
  });

  test("a header that is not JSON, or JSON of the wrong shape, is invalid JSON", () => {
    const notJson = Buffer.concat([Buffer.from(RECORD_MAGIC, "latin1"), Buffer.from("{nope\n{}")]);
    expect(decodeRecord(notJson, expectOk)).toEqual({ ok: false, reason: "invalid-json" });
    const wrongShape = forge(Buffer.from("{}"), { len: "2" });
    expect(decodeRecord(wrongShape, expectOk)).toEqual({ ok: false, reason: "invalid-json" });
  });

  test("a header with another format version is the wrong version", () => {
    const buf = forge(Buffer.from("{}"), { v: 2 });
    expect(decodeRecord(buf, expectOk)).toEqual({ ok: false, reason: "wrong-version" });
  });

  test("a record of another model is the wrong fingerprint", () => {
    const buf = encodeRecord(record({ fingerprint: "0".repeat(64) }));
    expect(decodeRecord(buf, expectOk)).toEqual({ ok: false, reason: "wrong-fingerprint" });
  });

  test("a record stored under another key is a key mismatch", () => {
    const buf = encodeRecord(record());
    expect(decodeRecord(buf, { ...expectOk, key: "b".repeat(64) })).toEqual({ ok: false, reason: "key-mismatch" });
  });

  test("a record larger than maxBytes, or declaring a payload larger than maxBytes, is oversize", () => {
    const buf = encodeRecord(record());
    expect(decodeRecord(buf, { fingerprint: FP, maxBytes: buf.length - 1 })).toEqual({ ok: false, reason: "oversize" });
    const liar = forge(Buffer.from("{}"), { len: 10_000_000 });
    expect(decodeRecord(liar, expectOk)).toEqual({ ok: false, reason: "oversize" });
  });

  test("a payload byte changed after writing is a checksum mismatch", () => {
    const buf = Buffer.from(encodeRecord(record()));
    buf[buf.length - 5] = (buf[buf.length - 5] ?? 0) ^ 0x01;
    expect(decodeRecord(buf, expectOk)).toEqual({ ok: false, reason: "checksum-mismatch" });
  });

  test("a forged payload with a valid checksum is still checked for UTF-8, JSON and shape", () => {
    expect(decodeRecord(forge(Buffer.from([0x7b, 0xff, 0x7d])), expectOk)).toEqual({
      ok: false,
      reason: "invalid-utf8",
    });
    expect(decodeRecord(forge(Buffer.from("{oops")), expectOk)).toEqual({ ok: false, reason: "invalid-json" });
    const shapeless = Buffer.from(JSON.stringify({ key: KEY, fingerprint: FP, createdAt: 1, value: { text: 3 } }));
    expect(decodeRecord(forge(shapeless), expectOk)).toEqual({ ok: false, reason: "invalid-json" });
  });

  test("a forged payload that disagrees with its header on key or fingerprint is rejected", () => {
    const other = parts(encodeRecord(record({ key: "b".repeat(64) }))).payload;
    expect(decodeRecord(forge(other), expectOk)).toEqual({ ok: false, reason: "key-mismatch" });
    const otherFp = parts(encodeRecord(record({ fingerprint: "0".repeat(64) }))).payload;
    expect(decodeRecord(forge(otherFp), expectOk)).toEqual({ ok: false, reason: "wrong-fingerprint" });
  });

  test("decode never throws on a value that is not a buffer at all", () => {
    expect(decodeRecord(undefined as unknown as Buffer, expectOk)).toEqual({ ok: false, reason: "binary-garbage" });
  });
});
