/**
 * An in-memory SoakFs for tests: power-loss simulation and fault injection in the
 * spirit of SQLite's test method.
 * - crash(): drops what was not made durable. File data is durable after sync() on
 *   one of its handles; created, renamed and unlinked names only after a sync() of a
 *   directory handle (open(dir, "r")), which commits the whole namespace.
 * - failAt: the Nth operation (1-based, counting open/writeFile/sync/close/rename/
 *   unlink/readFile) fails with EIO; with tornWrite a failing writeFile first writes
 *   half its data.
 * - splitWrites: every writeFile writes its two halves across an event-loop turn,
 *   exposing callers that do not serialise their writes.
 */
import type { SoakFileHandle, SoakFs } from "./soak-fs.js";

export interface MemoryFsOptions {
  failAt?: number;
  tornWrite?: boolean;
  splitWrites?: boolean;
}

export interface MemoryFs {
  fs: SoakFs;
  crash(): void;
  /** Current (not necessarily durable) content, or undefined. */
  get(path: string): Uint8Array | undefined;
  /** Sets a file's content, durably (test setup). */
  set(path: string, data: Uint8Array | string): void;
  /** Existing file paths, sorted. */
  paths(): string[];
  /** Operations so far, as "op path". */
  readonly log: readonly string[];
}

interface Inode {
  data: Uint8Array;
  durable: Uint8Array;
}

const encoder = new TextEncoder();

function fsError(code: string, op: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${op} '${path}'`), { code });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function createMemoryFs(options: MemoryFsOptions = {}): MemoryFs {
  let names = new Map<string, Inode>();
  let durableNames = new Map<string, Inode>();
  let generation = 0;
  const log: string[] = [];

  /** Counts an operation; true when it is the one that must fail. */
  const step = (op: string, path: string): boolean => {
    log.push(`${op} ${path}`);
    return log.length === options.failAt;
  };

  const handleFor = (path: string, inode: Inode | null, writable: boolean): SoakFileHandle => {
    const born = generation;
    let closed = false;
    const check = (op: string): void => {
      if (closed || born !== generation) throw fsError("EBADF", op, path);
    };
    return {
      async writeFile(data) {
        const failing = step("writeFile", path);
        check("writeFile");
        if (!inode || !writable) throw fsError("EBADF", "writeFile", path);
        const bytes = typeof data === "string" ? encoder.encode(data) : data;
        const half = bytes.length >> 1;
        if (failing) {
          if (options.tornWrite) inode.data = concat(inode.data, bytes.subarray(0, half));
          throw fsError("EIO", "writeFile", path);
        }
        if (options.splitWrites) {
          inode.data = concat(inode.data, bytes.subarray(0, half));
          await new Promise<void>((resolve) => setImmediate(resolve));
          inode.data = concat(inode.data, bytes.subarray(half));
        } else {
          inode.data = concat(inode.data, bytes);
        }
      },
      async sync() {
        if (step("sync", path)) throw fsError("EIO", "sync", path);
        check("sync");
        if (inode) inode.durable = inode.data.slice();
        else durableNames = new Map(names);
      },
      async close() {
        if (step("close", path)) throw fsError("EIO", "close", path);
        check("close");
        closed = true;
      },
    };
  };

  const fs: SoakFs = {
    async open(path, flags) {
      if (step("open", path)) throw fsError("EIO", "open", path);
      let inode = names.get(path) ?? null;
      if (flags === "r") return handleFor(path, inode, false);
      if (!inode) {
        inode = { data: new Uint8Array(), durable: new Uint8Array() };
        names.set(path, inode);
      } else if (flags === "w") {
        inode.data = new Uint8Array();
      }
      return handleFor(path, inode, true);
    },
    async readFile(path) {
      if (step("readFile", path)) throw fsError("EIO", "readFile", path);
      const inode = names.get(path);
      if (!inode) throw fsError("ENOENT", "readFile", path);
      return inode.data.slice();
    },
    async rename(from, to) {
      if (step("rename", from)) throw fsError("EIO", "rename", from);
      const inode = names.get(from);
      if (!inode) throw fsError("ENOENT", "rename", from);
      names.delete(from);
      names.set(to, inode);
    },
    async unlink(path) {
      if (step("unlink", path)) throw fsError("EIO", "unlink", path);
      if (!names.delete(path)) throw fsError("ENOENT", "unlink", path);
    },
  };

  return {
    fs,
    log,
    crash() {
      generation++;
      names = new Map(durableNames);
      for (const inode of names.values()) inode.data = inode.durable.slice();
    },
    get: (path) => names.get(path)?.data.slice(),
    set(path, data) {
      const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
      const inode: Inode = { data: bytes, durable: bytes.slice() };
      names.set(path, inode);
      durableNames.set(path, inode);
    },
    paths: () => [...names.keys()].sort(),
  };
}
