/** An in-memory ConfigFs for tests: absolute path -> file (with its first bytes) or directory. */
import type { ConfigFs } from "./config-fs.js";

export type MemoryEntry =
  | { kind: "file"; /** First bytes, as latin1 text. */ head: string; unreadable?: boolean }
  | { kind: "dir" };

function fsError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

export function memoryFs(entries: Readonly<Record<string, MemoryEntry>>): ConfigFs {
  const lookup = (path: string): MemoryEntry => {
    const entry = entries[path];
    if (entry === undefined) throw fsError("ENOENT");
    return entry;
  };
  return {
    stat: (path) => {
      const entry = lookup(path);
      return { isFile: () => entry.kind === "file", isDirectory: () => entry.kind === "dir" };
    },
    readHead: (path, length) => {
      const entry = lookup(path);
      if (entry.kind === "dir") throw fsError("EISDIR");
      if (entry.unreadable === true) throw fsError("EACCES");
      return Buffer.from(entry.head, "latin1").subarray(0, length);
    },
  };
}
