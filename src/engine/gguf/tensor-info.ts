/** Reads and validates the tensor info section of a GGUF header. */
import type { ByteReader } from "./byte-reader.js";
import { alignUp, GGML_MAX_DIMS, GGML_MAX_NAME, GGML_TYPES, ggmlTensorBytes } from "./constants.js";
import { GgufFormatError, quoteName } from "./errors.js";
import { readString } from "./metadata.js";

export interface GgufTensorInfo {
  name: string;
  /** Shape, ne0 first. */
  dims: number[];
  /** ggml type id. */
  type: number;
  typeName: string;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteSize: number;
}

const INT64_LIMIT = 1n << 63n;

function bad(message: string): GgufFormatError {
  return new GgufFormatError("bad-tensor", message);
}

/**
 * Reads `count` tensor infos at the cursor. Checks names, shapes, types and that the relative data
 * offsets are laid out in order, each padded to `alignment` (what llama.cpp requires). The returned
 * offsets are relative to the data section until `placeTensors` makes them absolute.
 */
export async function readTensorInfos(r: ByteReader, count: number, alignment: number): Promise<GgufTensorInfo[]> {
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  let expectedOffset = 0n;
  for (let i = 0; i < count; i++) {
    const name = await readString(r, () => `tensor name #${i}`, GGML_MAX_NAME - 1, "bad-tensor");
    const q = quoteName(name);
    if (names.has(name)) throw bad(`duplicate tensor name ${q} (corrupt file?)`);
    names.add(name);

    await r.need(4, () => `the dimension count of tensor ${q}`);
    const nDims = r.u32();
    if (nDims < 1 || nDims > GGML_MAX_DIMS) {
      throw bad(`tensor ${q} has ${nDims} dimensions; GGUF tensors have 1 to ${GGML_MAX_DIMS} (corrupt file?)`);
    }
    await r.need(8 * nDims + 4 + 8, () => `the shape, type and offset of tensor ${q}`);
    const dims: bigint[] = [];
    let elements = 1n;
    for (let d = 0; d < nDims; d++) {
      const ne = r.u64();
      if (ne === 0n || ne >= INT64_LIMIT) {
        throw bad(`tensor ${q} dimension ${d} is ${ne}; every dimension must be between 1 and 2^63-1 (corrupt file?)`);
      }
      dims.push(ne);
      elements *= ne;
    }
    const shape = `[${dims.join(", ")}]`;
    if (elements >= INT64_LIMIT) throw bad(`tensor ${q} has shape ${shape}, too many elements (corrupt file?)`);

    const type = r.u32();
    const info = GGML_TYPES[type];
    if (!info) {
      throw bad(
        `tensor ${q} has unknown ggml type ${type} (corrupt file, or a quantization type this server does not support)`,
      );
    }
    const ne0 = dims[0] ?? 1n;
    if (ne0 % BigInt(info.blockSize) !== 0n) {
      throw bad(
        `tensor ${q} of type ${info.name} has ${ne0} elements per row, not a multiple of the type's block size ${info.blockSize} (corrupt file?)`,
      );
    }
    const bytes = ggmlTensorBytes(type, dims);
    if (bytes > BigInt(r.fileSize)) {
      throw new GgufFormatError(
        "tensor-out-of-bounds",
        `tensor ${q} (${info.name}, shape ${shape}) needs ${bytes} bytes but the whole file has ${r.fileSize} bytes (corrupt or truncated download?)`,
      );
    }

    const offset = r.u64();
    if (offset % BigInt(alignment) !== 0n) {
      throw bad(`tensor ${q} data offset ${offset} is not a multiple of the file's alignment ${alignment} (corrupt file?)`);
    }
    if (offset !== expectedOffset) {
      throw bad(
        `tensor ${q} data starts at offset ${offset} of the data section but the tensors before it end at ${expectedOffset}; ` +
          "tensors must be stored in order without gaps (corrupt file?)",
      );
    }
    expectedOffset += BigInt(alignUp(Number(bytes), alignment));
    tensors.push({ name, dims: dims.map(Number), type, typeName: info.name, offset: Number(offset), byteSize: Number(bytes) });
  }
  return tensors;
}

/** Makes offsets absolute and checks that every tensor's data lies inside the file. */
export function placeTensors(tensors: GgufTensorInfo[], dataOffset: number, fileSize: number): void {
  for (const t of tensors) {
    t.offset += dataOffset;
    const end = t.offset + t.byteSize;
    if (end > fileSize) {
      throw new GgufFormatError(
        "tensor-out-of-bounds",
        `tensor ${quoteName(t.name)} data ends at byte ${end} but the file has ${fileSize} bytes (truncated download?)`,
      );
    }
  }
}
