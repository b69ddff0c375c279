/**
 * GGUF format constants: value types, ggml tensor types and their block sizes.
 * Block sizes match ggml's type_traits (ggml/src/ggml.c, ggml-common.h).
 */

/** "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = Buffer.from("GGUF", "latin1");
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS. */
export const GGML_MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME: tensor names must be shorter than this. */
export const GGML_MAX_NAME = 64;

export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** Lower-case names of the value types, indexed by type id. */
export const GGUF_VALUE_TYPE_NAMES: readonly string[] = [
  "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64",
  "float64",
];

/** Byte size of fixed-size value types (undefined for string and array). */
export function ggufScalarSize(type: number): number | undefined {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
      return 8;
    default:
      return undefined;
  }
}

export interface GgmlTypeInfo {
  name: string;
  /** Elements per block. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const t = (name: string, blockSize: number, typeSize: number): GgmlTypeInfo => ({ name, blockSize, typeSize });

/** ggml tensor types indexed by type id; undefined marks ids that were removed or never assigned. */
export const GGML_TYPES: readonly (GgmlTypeInfo | undefined)[] = [
  t("F32", 1, 4), // 0
  t("F16", 1, 2), // 1
  t("Q4_0", 32, 18), // 2
  t("Q4_1", 32, 20), // 3
  undefined, // 4 Q4_2 (removed)
  undefined, // 5 Q4_3 (removed)
  t("Q5_0", 32, 22), // 6
  t("Q5_1", 32, 24), // 7
  t("Q8_0", 32, 34), // 8
  t("Q8_1", 32, 36), // 9
  t("Q2_K", 256, 84), // 10
  t("Q3_K", 256, 110), // 11
  t("Q4_K", 256, 144), // 12
  t("Q5_K", 256, 176), // 13
  t("Q6_K", 256, 210), // 14
  t("Q8_K", 256, 292), // 15
  t("IQ2_XXS", 256, 66), // 16
  t("IQ2_XS", 256, 74), // 17
  t("IQ3_XXS", 256, 98), // 18
  t("IQ1_S", 256, 50), // 19
  t("IQ4_NL", 32, 18), // 20
  t("IQ3_S", 256, 110), // 21
  t("IQ2_S", 256, 82), // 22
  t("IQ4_XS", 256, 136), // 23
  t("I8", 1, 1), // 24
  t("I16", 1, 2), // 25
  t("I32", 1, 4), // 26
  t("I64", 1, 8), // 27
  t("F64", 1, 8), // 28
  t("IQ1_M", 256, 56), // 29
  t("BF16", 1, 2), // 30
  undefined, // 31 Q4_0_4_4 (removed)
  undefined, // 32 Q4_0_4_8 (removed)
  undefined, // 33 Q4_0_8_8 (removed)
  t("TQ1_0", 256, 54), // 34
  t("TQ2_0", 256, 66), // 35
  undefined, // 36 IQ4_NL_4_4 (removed)
  undefined, // 37 IQ4_NL_4_8 (removed)
  undefined, // 38 IQ4_NL_8_8 (removed)
  t("MXFP4", 32, 17), // 39
  t("NVFP4", 64, 36), // 40
  t("Q1_0", 128, 18), // 41
  t("Q2_0", 64, 18), // 42
];

export const GgmlType = { F32: 0 } as const;

/**
 * Bytes taken by a tensor of `type` with shape `dims` (ne0 first). The caller must have checked
 * that the type is known and ne0 is a multiple of its block size.
 */
export function ggmlTensorBytes(type: number, dims: readonly bigint[]): bigint {
  const info = GGML_TYPES[type];
  if (!info) throw new RangeError(`unknown ggml type ${type}`);
  let elements = 1n;
  for (const d of dims) elements *= d;
  return (elements / BigInt(info.blockSize)) * BigInt(info.typeSize);
}

/** Rounds `n` up to a multiple of `alignment` (a power of two). */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
