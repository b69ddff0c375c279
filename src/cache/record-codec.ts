/**
 * The on-disk framing of one response-cache record. A record file is
 *
 *   GAUNTLET-CACHE\n
 *   {"v":1,"fp":"<fingerprint>","key":"<64 hex>","len":<payload bytes>,"sha256":"<hex of payload>"}\n
 *   <payload: UTF-8 JSON of the whole CacheRecord, exactly len bytes>
 *
 * The header is pure ASCII (non-ASCII characters are \u-escaped) and the payload JSON never contains a raw
 * newline. The payload repeats key and fingerprint, and decode checks them against the header, so a damaged
 * header or a payload moved under another name is never accepted. decodeRecord never throws.
 */
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";

export const RECORD_MAGIC = "GAUNTLET-CACHE\n";
export const RECORD_FORMAT_VERSION = 1;
/** A header longer than this is not ours. */
const MAX_HEADER_BYTES = 4096;
const MAGIC = Buffer.from(RECORD_MAGIC, "latin1");
const HEX64 = /^[0-9a-f]{64}$/;

export type FinishReason = "stop" | "length";

export interface CachedResponse {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export interface CacheRecord {
  /** 64 lowercase hex characters (the hash of the request); also the record's file name. */
  key: string;
  /** Fingerprint of the model that produced the value. */
  fingerprint: string;
  /** Wall-clock ms since the epoch when the value was produced. */
  createdAt: number;
  value: CachedResponse;
}

export type CorruptionReason =
  | "truncated"
  | "invalid-json"
  | "invalid-utf8"
  | "binary-garbage"
  | "checksum-mismatch"
  | "wrong-version"
  | "wrong-fingerprint"
  | "oversize"
  | "key-mismatch";

export const CORRUPTION_REASONS: readonly CorruptionReason[] = [
  "truncated",
  "invalid-json",
  "invalid-utf8",
  "binary-garbage",
  "checksum-mismatch",
  "wrong-version",
  "wrong-fingerprint",
  "oversize",
  "key-mismatch",
];

export type DecodeResult = { ok: true; record: CacheRecord } | { ok: false; reason: CorruptionReason };

export interface DecodeExpectation {
  /** The fingerprint of the model being served; records of any other model are rejected. */
  fingerprint: string;
  /** Largest acceptable record file, in bytes (magic + header + payload). */
  maxBytes: number;
  /** When given, the record must carry this key (the key its file name claims). */
  key?: string | undefined;
}

interface Header {
  v: number;
  fp: string;
  key: string;
  len: number;
  sha256: string;
}

/** A key usable as a file name: exactly 64 lowercase hex characters. */
export function isRecordKey(key: unknown): key is string {
  return typeof key === "string" && HEX64.test(key);
}

/** Throws TypeError for a record that could never be decoded again (a programming error). */
export function encodeRecord(rec: CacheRecord): Buffer {
  const problem = recordProblem(rec);
  if (problem !== undefined) throw new TypeError(`invalid cache record: ${problem}`);
  const clean: CacheRecord = {
    key: rec.key,
    fingerprint: rec.fingerprint,
    createdAt: rec.createdAt,
    value: {
      text: rec.value.text,
      finishReason: rec.value.finishReason,
      promptTokens: rec.value.promptTokens,
      completionTokens: rec.value.completionTokens,
    },
  };
  const payload = Buffer.from(JSON.stringify(clean), "utf8");
  const header: Header = {
    v: RECORD_FORMAT_VERSION,
    fp: rec.fingerprint,
    key: rec.key,
    len: payload.length,
    sha256: sha256(payload),
  };
  return Buffer.concat([MAGIC, Buffer.from(`${asciiJson(header)}\n`, "latin1"), payload]);
}

export function decodeRecord(buf: Buffer, expect: DecodeExpectation): DecodeResult {
  try {
    return decode(buf, expect);
  } catch {
    return fail("binary-garbage");
  }
}

function decode(buf: Buffer, expect: DecodeExpectation): DecodeResult {
  if (!Buffer.isBuffer(buf)) return fail("binary-garbage");
  if (buf.length > expect.maxBytes) return fail("oversize");
  const magicLen = Math.min(buf.length, MAGIC.length);
  if (!buf.subarray(0, magicLen).equals(MAGIC.subarray(0, magicLen))) return fail("binary-garbage");
  if (buf.length < MAGIC.length) return fail("truncated");

  const headerStart = MAGIC.length;
  let headerEnd = -1;
  const scanEnd = Math.min(buf.length, headerStart + MAX_HEADER_BYTES + 1);
  for (let i = headerStart; i < scanEnd; i++) {
    const b = buf[i] as number;
    if (b === 0x0a) {
      headerEnd = i;
      break;
    }
    if (b >= 0x80) return fail("invalid-utf8");
    if (b < 0x20 || b === 0x7f) return fail("binary-garbage");
  }
  if (headerEnd < 0) return fail(scanEnd === buf.length ? "truncated" : "invalid-json");

  const header = parseHeader(buf.subarray(headerStart, headerEnd).toString("latin1"));
  if (typeof header === "string") return fail(header);
  if (header.fp !== expect.fingerprint) return fail("wrong-fingerprint");
  if (expect.key !== undefined && header.key !== expect.key) return fail("key-mismatch");
  const payloadStart = headerEnd + 1;
  if (payloadStart + header.len > expect.maxBytes) return fail("oversize");
  const available = buf.length - payloadStart;
  if (available < header.len) return fail("truncated");
  if (available > header.len) return fail("binary-garbage");

  const payload = buf.subarray(payloadStart);
  if (sha256(payload) !== header.sha256) return fail("checksum-mismatch");
  if (!isUtf8(payload)) return fail("invalid-utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString("utf8"));
  } catch {
    return fail("invalid-json");
  }
  if (recordProblem(parsed) !== undefined) return fail("invalid-json");
  const rec = parsed as CacheRecord;
  if (rec.fingerprint !== header.fp) return fail("wrong-fingerprint");
  if (rec.key !== header.key) return fail("key-mismatch");
  return { ok: true, record: rec };
}

function parseHeader(text: string): Header | CorruptionReason {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    return "invalid-json";
  }
  if (!isObject(h) || typeof h["v"] !== "number") return "invalid-json";
  if (h["v"] !== RECORD_FORMAT_VERSION) return "wrong-version";
  const { fp, key, len, sha256: sum } = h;
  if (typeof fp !== "string" || !isRecordKey(key) || typeof sum !== "string" || !HEX64.test(sum)) return "invalid-json";
  if (typeof len !== "number" || !Number.isSafeInteger(len) || len < 0) return "invalid-json";
  return { v: RECORD_FORMAT_VERSION, fp, key, len, sha256: sum };
}

/** Why `rec` is not a valid CacheRecord, or undefined when it is. */
function recordProblem(rec: unknown): string | undefined {
  if (!isObject(rec)) return "not an object";
  if (!isRecordKey(rec["key"])) return "key must be 64 lowercase hex characters";
  if (typeof rec["fingerprint"] !== "string") return "fingerprint must be a string";
  if (typeof rec["createdAt"] !== "number" || !Number.isFinite(rec["createdAt"])) return "createdAt must be finite";
  const v = rec["value"];
  if (!isObject(v)) return "value must be an object";
  if (typeof v["text"] !== "string") return "value.text must be a string";
  if (v["finishReason"] !== "stop" && v["finishReason"] !== "length") return "value.finishReason must be stop|length";
  if (!isCount(v["promptTokens"]) || !isCount(v["completionTokens"])) return "token counts must be integers >= 0";
  return undefined;
}

function isCount(n: unknown): boolean {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function fail(reason: CorruptionReason): DecodeResult {
  return { ok: false, reason };
}
