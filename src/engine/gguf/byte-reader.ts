/**
 * Reads a file front to back through a FileHandle, a window at a time, never past a byte limit.
 * `need(n)` makes n bytes at the cursor available; the typed getters then read synchronously.
 */
import type { FileHandle } from "node:fs/promises";
import { GgufFormatError } from "./errors.js";

export const DEFAULT_READ_CHUNK_BYTES = 64 * 1024;

export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private bufStart = 0;
  private bufLen = 0;
  /** File offset of the cursor. */
  pos = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly fileSize: number,
    /** Bytes of header the caller allows to be read (the metadata cap). */
    readonly limit: number,
    /** Bytes read ahead per file read. */
    private readonly chunk: number = DEFAULT_READ_CHUNK_BYTES,
  ) {}

  /** Bytes left in the file after the cursor. */
  remaining(): number {
    return this.fileSize - this.pos;
  }

  /** Ensures `n` bytes at the cursor are buffered; `what` names the field for error messages. */
  async need(n: number, what: () => string): Promise<void> {
    const end = this.pos + n;
    if (end <= this.bufStart + this.bufLen) return;
    if (end > this.fileSize) {
      throw new GgufFormatError(
        "truncated",
        `the file ends at byte ${this.fileSize} while reading ${what()} at byte ${this.pos}; ` +
          "the header is incomplete (truncated download?)",
      );
    }
    if (end > this.limit) {
      throw new GgufFormatError(
        "header-too-large",
        `the GGUF header (metadata and tensor list) is larger than the ${this.limit}-byte limit ` +
          `while reading ${what()}; the file is corrupt or the limit is too low`,
      );
    }
    const size = Math.min(Math.max(n, this.chunk), this.fileSize - this.pos, this.limit - this.pos);
    if (this.buf.length < size) this.buf = Buffer.alloc(Math.max(size, this.chunk));
    let got = 0;
    while (got < size) {
      const { bytesRead } = await this.fh.read(this.buf, got, size - got, this.pos + got);
      if (bytesRead === 0) {
        throw new GgufFormatError(
          "truncated",
          `the file ended early while reading ${what()} at byte ${this.pos + got} (was it truncated while being read?)`,
        );
      }
      got += bytesRead;
    }
    this.bufStart = this.pos;
    this.bufLen = size;
  }

  /** Moves the cursor `n` bytes forward without reading them; checks they are inside the file. */
  async skip(n: number, what: () => string): Promise<void> {
    if (n <= 0) return;
    if (this.pos + n > this.fileSize || this.pos + n > this.limit) await this.need(n, what);
    this.pos += n;
  }

  private at(n: number): number {
    const off = this.pos - this.bufStart;
    if (off < 0 || off + n > this.bufLen) throw new RangeError("ByteReader: read without need()");
    this.pos += n;
    return off;
  }

  u8(): number {
    return this.buf.readUInt8(this.at(1));
  }
  i8(): number {
    return this.buf.readInt8(this.at(1));
  }
  u16(): number {
    return this.buf.readUInt16LE(this.at(2));
  }
  i16(): number {
    return this.buf.readInt16LE(this.at(2));
  }
  u32(): number {
    return this.buf.readUInt32LE(this.at(4));
  }
  i32(): number {
    return this.buf.readInt32LE(this.at(4));
  }
  u64(): bigint {
    return this.buf.readBigUInt64LE(this.at(8));
  }
  i64(): bigint {
    return this.buf.readBigInt64LE(this.at(8));
  }
  f32(): number {
    return this.buf.readFloatLE(this.at(4));
  }
  f64(): number {
    return this.buf.readDoubleLE(this.at(8));
  }
  /** Returns a copy of the next n bytes. */
  bytes(n: number): Buffer {
    const off = this.at(n);
    return Buffer.from(this.buf.subarray(off, off + n));
  }
  /** Decodes the next n bytes as UTF-8 (invalid sequences become U+FFFD). */
  utf8(n: number): string {
    const off = this.at(n);
    return this.buf.toString("utf8", off, off + n);
  }
}
