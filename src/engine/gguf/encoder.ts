/**
 * Encodes a GGUF v3 file (little-endian) from metadata and f32 tensors. Tensor data is filled in
 * place in the output buffer, so a 100 MB model needs no second copy.
 */
import { endianness } from "node:os";
import { alignUp, GgmlType, GGUF_MAGIC, GgufValueType } from "./constants.js";

export type GgufKv =
  | { key: string; type: "u32"; value: number }
  | { key: string; type: "f32"; value: number }
  | { key: string; type: "bool"; value: boolean }
  | { key: string; type: "string"; value: string }
  | { key: string; type: "string[]"; value: readonly string[] }
  | { key: string; type: "i32[]"; value: readonly number[] };

export interface F32TensorSpec {
  name: string;
  /** Shape, ne0 (inputs) first. */
  dims: readonly number[];
  /** Writes the tensor's values into `out` (length = product of dims); `out` starts zeroed. */
  fill(out: Float32Array): void;
}

class ByteBuilder {
  private buf = Buffer.alloc(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.bytes(b);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function encodeKv(out: ByteBuilder, kv: GgufKv): void {
  out.str(kv.key);
  switch (kv.type) {
    case "u32":
      out.u32(GgufValueType.UINT32);
      out.u32(kv.value);
      return;
    case "f32":
      out.u32(GgufValueType.FLOAT32);
      out.f32(kv.value);
      return;
    case "bool":
      out.u32(GgufValueType.BOOL);
      out.u8(kv.value ? 1 : 0);
      return;
    case "string":
      out.u32(GgufValueType.STRING);
      out.str(kv.value);
      return;
    case "string[]":
      out.u32(GgufValueType.ARRAY);
      out.u32(GgufValueType.STRING);
      out.u64(kv.value.length);
      for (const s of kv.value) out.str(s);
      return;
    case "i32[]":
      out.u32(GgufValueType.ARRAY);
      out.u32(GgufValueType.INT32);
      out.u64(kv.value.length);
      for (const v of kv.value) out.i32(v);
      return;
  }
}

/** Builds the whole file: header, metadata, tensor infos, padding, aligned f32 tensor data. */
export function encodeGguf(kvs: readonly GgufKv[], tensors: readonly F32TensorSpec[], alignment: number): Buffer {
  const head = new ByteBuilder();
  head.bytes(GGUF_MAGIC);
  head.u32(3);
  head.u64(tensors.length);
  head.u64(kvs.length);
  for (const kv of kvs) encodeKv(head, kv);

  const layout: { spec: F32TensorSpec; offset: number; count: number }[] = [];
  let dataSize = 0;
  for (const spec of tensors) {
    const count = spec.dims.reduce((a, b) => a * b, 1);
    head.str(spec.name);
    head.u32(spec.dims.length);
    for (const d of spec.dims) head.u64(d);
    head.u32(GgmlType.F32);
    head.u64(dataSize);
    layout.push({ spec, offset: dataSize, count });
    dataSize += alignUp(count * 4, alignment);
  }
  const last = layout[layout.length - 1];
  const dataEnd = last ? last.offset + last.count * 4 : 0;
  const dataStart = alignUp(head.length, alignment);

  const file = Buffer.alloc(dataStart + dataEnd);
  head.result().copy(file, 0);
  for (const { spec, offset, count } of layout) {
    const start = dataStart + offset;
    const region = file.subarray(start, start + count * 4);
    if ((file.byteOffset + start) % 4 === 0) {
      spec.fill(new Float32Array(file.buffer, file.byteOffset + start, count));
      if (endianness() === "BE") region.swap32();
    } else {
      const values = new Float32Array(count);
      spec.fill(values);
      for (let i = 0; i < count; i++) region.writeFloatLE(values[i] ?? 0, i * 4);
    }
  }
  return file;
}
