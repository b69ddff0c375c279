/**
 * Validates a GGUF model file's header without reading the whole file: the header is read
 * incrementally through a FileHandle, capped at `maxHeaderBytes`, and every tensor's data must lie
 * inside the file. Any problem (including I/O errors) is a GgufFormatError with a user-facing message.
 */
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { ByteReader, DEFAULT_READ_CHUNK_BYTES } from "./byte-reader.js";
import { alignUp, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType } from "./constants.js";
import { GgufFormatError } from "./errors.js";
import { checkFits, type GgufMetadataValue, readMetadata } from "./metadata.js";
import { type GgufTensorInfo, placeTensors, readTensorInfos } from "./tensor-info.js";

export { GgufFormatError } from "./errors.js";
export type { GgufErrorCode } from "./errors.js";
export type { GgufArraySummary, GgufMetadataValue } from "./metadata.js";
export type { GgufTensorInfo } from "./tensor-info.js";

export interface GgufHeaderInfo {
  version: number;
  tensorCount: number;
  metadataKeyCount: number;
  architecture: string;
  name: string | undefined;
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  blockCount: number | undefined;
  vocabSize: number | undefined;
  /** general.file_type (0 = all f32, 1 = mostly f16, 7 = mostly q8_0, ...). */
  fileType: number | undefined;
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  fileSize: number;
  tensors: GgufTensorInfo[];
  /** Scalars and strings by key; arrays as summaries. */
  metadata: Map<string, GgufMetadataValue>;
}

export interface ReadGgufHeaderOptions {
  /** Most bytes of header (metadata + tensor infos) to read. Default 64 MiB. */
  maxHeaderBytes?: number;
  /** Bytes read ahead per file read (a tuning and testing knob). Default 64 KiB. */
  readChunkBytes?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024 * 1024;
const MAX_TENSORS = 1 << 20;
const MAX_KV = 1 << 16;
/** Smallest possible encodings, used to reject counts the file cannot hold. */
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;
const MIN_KV_BYTES = 8 + 1 + 4 + 1;

const hex = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
const printable = (b: Buffer): string => [...b].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : ".")).join("");

function badMagic(magic: Buffer): GgufFormatError {
  const text = magic.toString("latin1");
  let hint = "";
  if (["tjgg", "fmgg", "lmgg", "algg"].includes(text)) {
    hint = `: this is an old GGML/GGJT model ('${[...text].reverse().join("")}'); llama.cpp loads only GGUF now, so convert it or get a GGUF build`;
  } else if (text === "vers") hint = ": this looks like a Git LFS pointer file, not the model itself";
  else if (text.startsWith("<")) hint = ": this looks like an HTML or XML page (a failed download?)";
  else if (text.startsWith("{")) hint = ": this looks like a JSON file";
  return new GgufFormatError(
    "bad-magic",
    `not a GGUF file (magic bytes are ${hex(magic)} "${printable(magic)}", expected ${hex(GGUF_MAGIC)} "GGUF")${hint}`,
  );
}

function checkVersion(version: number): void {
  let problem: string | undefined;
  if (version === 0) problem = "GGUF version 0 is invalid (corrupt file?)";
  else if (version === 1) problem = "GGUF version 1 is no longer supported; convert the model again with a current llama.cpp";
  else if ((version & 0xffff) === 0) {
    problem = `the GGUF version field reads ${version}: this is a big-endian GGUF file, which this machine cannot load; use a little-endian build of the model`;
  } else if (version > 3) problem = `GGUF version ${version} is newer than this server supports (2 and 3)`;
  if (problem) throw new GgufFormatError("bad-version", problem);
}

function checkCount(count: bigint, what: string, max: number, minBytes: number, r: ByteReader): number {
  if (count > BigInt(max)) {
    throw new GgufFormatError("bad-count", `the header's ${what} is ${count}, more than the ${max} allowed (corrupt file?)`);
  }
  if (count * BigInt(minBytes) > BigInt(r.remaining())) {
    throw new GgufFormatError(
      "bad-count",
      `the header's ${what} is ${count}, more than the remaining ${r.remaining()} bytes of the file can hold (truncated download or corrupt file?)`,
    );
  }
  return Number(count);
}

function asNumber(v: GgufMetadataValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

function alignmentOf(types: Map<string, number>, values: Map<string, GgufMetadataValue>): number {
  const value = values.get("general.alignment");
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (types.get("general.alignment") !== GgufValueType.UINT32 || typeof value !== "number") {
    throw new GgufFormatError("bad-metadata", "metadata key 'general.alignment' must be a uint32 (corrupt file?)");
  }
  if (value === 0 || (value & (value - 1)) !== 0) {
    throw new GgufFormatError("bad-metadata", `metadata key 'general.alignment' is ${value}, not a power of two (corrupt file?)`);
  }
  return value;
}

async function readFrom(
  fh: FileHandle,
  fileSize: number,
  maxHeaderBytes: number,
  readChunkBytes: number,
): Promise<GgufHeaderInfo> {
  if (fileSize === 0) throw new GgufFormatError("empty", "the model file is empty (0 bytes), not a GGUF file (truncated download?)");
  if (fileSize < 4) {
    throw new GgufFormatError("truncated", `the model file is only ${fileSize} bytes long, not a GGUF file (truncated download?)`);
  }
  const r = new ByteReader(fh, fileSize, maxHeaderBytes, readChunkBytes);
  await r.need(4, () => "the magic bytes");
  const magic = r.bytes(4);
  if (!magic.equals(GGUF_MAGIC)) throw badMagic(magic);
  await r.need(4, () => "the GGUF version");
  const version = r.u32();
  checkVersion(version);
  await r.need(16, () => "the tensor and metadata counts");
  const tensorCount = checkCount(r.u64(), "tensor count", MAX_TENSORS, MIN_TENSOR_INFO_BYTES, r);
  const kvCount = checkCount(r.u64(), "metadata key count", MAX_KV, MIN_KV_BYTES, r);
  checkFits(r, BigInt(tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES), () => "the header");

  const { values, types } = await readMetadata(r, kvCount);
  const alignment = alignmentOf(types, values);
  const tensors = await readTensorInfos(r, tensorCount, alignment);
  const dataOffset = tensorCount > 0 ? alignUp(r.pos, alignment) : r.pos;
  placeTensors(tensors, dataOffset, fileSize);

  const architecture = values.get("general.architecture");
  if (typeof architecture !== "string" || architecture.length === 0) {
    throw new GgufFormatError(
      "bad-metadata",
      "the file has no 'general.architecture' metadata (the model family, e.g. \"llama\"), so llama.cpp cannot load it",
    );
  }
  const name = values.get("general.name");
  const tokens = values.get("tokenizer.ggml.tokens");
  const arch = (key: string): number | undefined => asNumber(values.get(`${architecture}.${key}`));
  return {
    version,
    tensorCount,
    metadataKeyCount: kvCount,
    architecture,
    name: typeof name === "string" ? name : undefined,
    contextLength: arch("context_length"),
    embeddingLength: arch("embedding_length"),
    blockCount: arch("block_count"),
    vocabSize: arch("vocab_size") ?? (typeof tokens === "object" ? tokens.length : undefined),
    fileType: asNumber(values.get("general.file_type")),
    alignment,
    dataOffset,
    fileSize,
    tensors,
    metadata: values,
  };
}

const IO_HINTS: Record<string, string> = {
  ENOENT: "no such file; check the model path",
  EISDIR: "it is a directory; give the path of a .gguf file",
  EACCES: "permission denied; check the file's permissions",
  EPERM: "permission denied; check the file's permissions",
};

function ioError(path: string, err: unknown): GgufFormatError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "unknown error";
  const hint = IO_HINTS[code] ?? "check that the path names a readable file";
  return new GgufFormatError("io", `cannot read the model file '${basename(path)}' (${code}): ${hint}`, { cause: err });
}

/** Reads and validates the header of the GGUF file at `path`. Throws GgufFormatError on any problem. */
export async function readGgufHeader(path: string, options: ReadGgufHeaderOptions = {}): Promise<GgufHeaderInfo> {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const readChunkBytes = Math.max(1, Math.floor(options.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES));
  let fh: FileHandle;
  let fileSize: number;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw ioError(path, err);
  }
  try {
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: st.isDirectory() ? "EISDIR" : "ENOTFILE" });
      fileSize = st.size;
    } catch (err) {
      throw ioError(path, err);
    }
    try {
      return await readFrom(fh, fileSize, maxHeaderBytes, readChunkBytes);
    } catch (err) {
      // Only file-system errors become user-facing "io" errors; anything else is a bug to surface.
      if (err instanceof GgufFormatError || typeof (err as NodeJS.ErrnoException).code !== "string") throw err;
      throw ioError(path, err);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
