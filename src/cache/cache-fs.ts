/**
 * The subset of node:fs/promises the response cache uses. Everything the disk store does to the file system
 * goes through this interface so tests can inject ENOSPC, EIO, EACCES or a crash at any operation.
 */
import { constants } from "node:fs";
import * as fsp from "node:fs/promises";

export interface CacheStats {
  size: number;
  mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

export interface CacheFileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  readFile(): Promise<Buffer>;
  stat(): Promise<CacheStats>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface CacheFs {
  mkdir(path: string, options: { recursive: true }): Promise<string | undefined>;
  readdir(path: string): Promise<string[]>;
  /** flags as in fs.open: "r" to read, "wx" to create a new file exclusively. */
  open(path: string, flags: string, mode?: number): Promise<CacheFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<CacheStats>;
  /** Removes a file or a whole directory tree (old models' record directories). Optional: without it they stay. */
  rm?(path: string, options: { recursive: true; force: true }): Promise<void>;
}

/**
 * "r" opens without blocking: open(2) of a FIFO for reading otherwise waits for a writer, which would hang
 * the request looking the record up (and hold one of libuv's few threads) for as long as nobody writes. The
 * caller then sees from fstat that it is not a regular file. O_NONBLOCK changes nothing for regular files.
 */
const READ_NONBLOCK = constants.O_RDONLY | constants.O_NONBLOCK;

/** The real file system. */
export const nodeCacheFs: CacheFs = {
  mkdir: (path, options) => fsp.mkdir(path, options),
  readdir: (path) => fsp.readdir(path),
  open: (path, flags, mode) => fsp.open(path, flags === "r" ? READ_NONBLOCK : flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  stat: (path) => fsp.stat(path),
  rm: (path, options) => fsp.rm(path, options),
};
