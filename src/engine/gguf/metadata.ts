/** Reads and validates the key/value metadata section of a GGUF header. */
import type { ByteReader } from "./byte-reader.js";
import { GGUF_VALUE_TYPE_NAMES, ggufScalarSize, GgufValueType } from "./constants.js";
import { type GgufErrorCode, GgufFormatError, quoteName } from "./errors.js";

/** Arrays are summarised, not kept: a vocabulary can hold hundreds of thousands of strings. */
export interface GgufArraySummary {
  kind: "array";
  elementType: string;
  length: number;
}

/** 64-bit integers that do not fit a JS number stay bigint. */
export type GgufMetadataValue = string | number | bigint | boolean | GgufArraySummary;

export interface GgufMetadata {
  values: Map<string, GgufMetadataValue>;
  /** GGUF value type id of each key. */
  types: Map<string, number>;
}

const MAX_KEY_BYTES = 65535;
/** Longest single string value accepted (chat templates are the largest, tens of KB). */
const MAX_STRING_BYTES = 16 * 1024 * 1024;

/** Throws unless `bytes` more bytes fit in both the file and the header limit. */
export function checkFits(r: ByteReader, bytes: bigint, what: () => string): void {
  if (bytes > BigInt(r.remaining())) {
    throw new GgufFormatError(
      "truncated",
      `${what()} claims ${bytes} bytes but only ${r.remaining()} bytes remain in the file (corrupt or truncated download?)`,
    );
  }
  if (bytes > BigInt(r.limit - r.pos)) {
    throw new GgufFormatError(
      "header-too-large",
      `${what()} claims ${bytes} bytes, past the ${r.limit}-byte header limit; the file is corrupt or the limit is too low`,
    );
  }
}

/** Reads a GGUF string (u64 length + UTF-8 bytes) of at most `maxBytes` bytes. */
export async function readString(
  r: ByteReader,
  what: () => string,
  maxBytes: number,
  code: GgufErrorCode = "bad-metadata",
): Promise<string> {
  await r.need(8, () => `the length of ${what()}`);
  const len = r.u64();
  if (len > BigInt(maxBytes)) {
    throw new GgufFormatError(code, `${what()} has a length of ${len} bytes, over the ${maxBytes}-byte limit (corrupt file?)`);
  }
  checkFits(r, len, what);
  const n = Number(len);
  await r.need(n, what);
  return r.utf8(n);
}

function toNumber(v: bigint): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function readScalar(r: ByteReader, type: number): GgufMetadataValue {
  switch (type) {
    case GgufValueType.UINT8:
      return r.u8();
    case GgufValueType.INT8:
      return r.i8();
    case GgufValueType.UINT16:
      return r.u16();
    case GgufValueType.INT16:
      return r.i16();
    case GgufValueType.UINT32:
      return r.u32();
    case GgufValueType.INT32:
      return r.i32();
    case GgufValueType.FLOAT32:
      return r.f32();
    case GgufValueType.BOOL:
      return r.u8() !== 0;
    case GgufValueType.UINT64:
      return toNumber(r.u64());
    case GgufValueType.INT64:
      return toNumber(r.i64());
    default:
      return r.f64();
  }
}

function unknownType(key: string, type: number, inArray: boolean): GgufFormatError {
  const where = inArray ? "array elements of" : "a value of";
  const hint = type === GgufValueType.ARRAY ? " (arrays of arrays are not supported)" : " (corrupt file?)";
  return new GgufFormatError("bad-value-type", `metadata key ${quoteName(key)} has ${where} unknown type ${type}${hint}`);
}

async function readArray(r: ByteReader, key: string): Promise<GgufArraySummary> {
  const what = () => `the array ${quoteName(key)}`;
  await r.need(12, what);
  const type = r.u32();
  const count = r.u64();
  const scalarSize = ggufScalarSize(type);
  if (scalarSize === undefined && type !== GgufValueType.STRING) throw unknownType(key, type, true);
  const minBytes = count * BigInt(scalarSize ?? 8);
  checkFits(r, minBytes, () => `${what()} with ${count} elements`);
  const length = Number(count);
  if (scalarSize !== undefined) {
    await r.skip(length * scalarSize, what);
  } else {
    for (let i = 0; i < length; i++) {
      await r.need(8, what);
      const len = r.u64();
      checkFits(r, len, () => `string ${i} of ${what()}`);
      await r.skip(Number(len), what);
    }
  }
  return { kind: "array", elementType: GGUF_VALUE_TYPE_NAMES[type] ?? String(type), length };
}

/** Reads `count` key/value pairs at the cursor. */
export async function readMetadata(r: ByteReader, count: number): Promise<GgufMetadata> {
  const values = new Map<string, GgufMetadataValue>();
  const types = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const key = await readString(r, () => `metadata key #${i}`, MAX_KEY_BYTES);
    if (key.length === 0) throw new GgufFormatError("bad-metadata", `metadata key #${i} is empty (corrupt file?)`);
    if (values.has(key)) {
      throw new GgufFormatError("bad-metadata", `duplicate metadata key ${quoteName(key)} (corrupt file?)`);
    }
    await r.need(4, () => `the type of metadata key ${quoteName(key)}`);
    const type = r.u32();
    let value: GgufMetadataValue;
    if (type === GgufValueType.ARRAY) {
      value = await readArray(r, key);
    } else if (type === GgufValueType.STRING) {
      value = await readString(r, () => `the value of ${quoteName(key)}`, MAX_STRING_BYTES);
    } else {
      const size = ggufScalarSize(type);
      if (size === undefined) throw unknownType(key, type, false);
      await r.need(size, () => `the value of ${quoteName(key)}`);
      value = readScalar(r, type);
    }
    values.set(key, value);
    types.set(key, type);
  }
  return { values, types };
}
