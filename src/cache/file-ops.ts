/**
 * The durable file operations of the disk store, over a CacheFs: an atomic write (temp file, fsync, rename,
 * directory fsync), a size-bounded read, and a delete that never throws.
 */
import type { CacheFileHandle, CacheFs } from "./cache-fs.js";

/**
 * Writes `data` to `tmpPath` (which must not exist), fsyncs it and renames it to `finalPath`, then fsyncs
 * the directory (best effort). On failure the temp file is removed and the error rethrown; `finalPath` is
 * then untouched.
 */
export async function writeAtomic(
  fs: CacheFs,
  dir: string,
  tmpPath: string,
  finalPath: string,
  data: Buffer,
): Promise<void> {
  let handle: CacheFileHandle | undefined;
  try {
    handle = await fs.open(tmpPath, "wx", 0o644);
    await handle.writeFile(data);
    await handle.sync();
    const opened = handle;
    handle = undefined;
    await opened.close();
    await fs.rename(tmpPath, finalPath);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await unlinkQuietly(fs, tmpPath);
    throw err;
  }
  await syncDirectory(fs, dir);
}

/**
 * Reads a regular file of at most `maxBytes`; for a bigger one returns its size without reading it.
 * Throws EISDIR for a directory.
 */
export async function readBounded(fs: CacheFs, path: string, maxBytes: number): Promise<Buffer | { oversize: number }> {
  const handle = await fs.open(path, "r");
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    if (!st.isFile()) throw Object.assign(new Error("EINVAL"), { code: "EINVAL" });
    if (st.size > maxBytes) return { oversize: st.size };
    return await handle.readFile();
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** fsyncs a directory so a rename or unlink in it is durable; ignored where the platform cannot. */
export async function syncDirectory(fs: CacheFs, dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not possible everywhere; the rename itself is already atomic
  }
}

/** Deletes a file; true when it was deleted. */
export async function unlinkQuietly(fs: CacheFs, path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch {
    return false;
  }
}
