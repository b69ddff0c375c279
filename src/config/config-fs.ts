/** The file-system calls config validation needs, injectable so tests can fake missing or unreadable files. */
import { closeSync, openSync, readSync, statSync } from "node:fs";

export interface ConfigFsStat {
  isFile(): boolean;
  isDirectory(): boolean;
}

export interface ConfigFs {
  /** Throws an error with `code` "ENOENT" (or "ENOTDIR") when the path does not exist. */
  stat(path: string): ConfigFsStat;
  /** Up to `length` bytes from the start of the file. Throws with `code` "EACCES" when unreadable. */
  readHead(path: string, length: number): Uint8Array;
}

export function nodeConfigFs(): ConfigFs {
  return {
    stat: (path) => statSync(path),
    readHead: (path, length) => {
      const fd = openSync(path, "r");
      try {
        const buffer = Buffer.alloc(length);
        const read = readSync(fd, buffer, 0, length, 0);
        return buffer.subarray(0, read);
      } finally {
        closeSync(fd);
      }
    },
  };
}
