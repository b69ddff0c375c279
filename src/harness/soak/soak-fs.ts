/**
 * The file-system surface the soak journal and atomic writer need (injected, so
 * tests can use memory-fs.ts with crash simulation and fault injection).
 * Node's fs/promises satisfies it: see nodeSoakFs.
 */
import { open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

export interface SoakFileHandle {
  /** Writes all of `data`: at the end for "a" handles, sequentially for "w" handles. */
  writeFile(data: string | Uint8Array): Promise<void>;
  /** fsync. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface SoakFs {
  /** "a": append (create), "w": truncate (create), "r": read-only, also for directories. */
  open(path: string, flags: "a" | "w" | "r"): Promise<SoakFileHandle>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeSoakFs: SoakFs = {
  open: (path, flags) => open(path, flags),
  readFile: (path) => readFile(path),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
};

/** Error codes of platforms that cannot open or fsync a directory (not failures). */
const DIR_SYNC_UNSUPPORTED = new Set(["EISDIR", "EINVAL", "EPERM", "EACCES", "ENOTSUP"]);

/**
 * fsync the directory holding `path`, making a created or renamed entry durable.
 * Skipped quietly where the platform does not support it; other errors propagate.
 */
export async function syncParentDirectory(fs: SoakFs, path: string): Promise<void> {
  let handle: SoakFileHandle;
  try {
    handle = await fs.open(dirname(path), "r");
  } catch (err) {
    if (DIR_SYNC_UNSUPPORTED.has(errorCode(err))) return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has(errorCode(err))) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }
  await handle.close();
}

export function errorCode(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : "";
}
