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
/** Told of an error the operation survived (it still succeeded) but that says the disk is failing. */
export type SoftErrorSink = (err: unknown) => void;

export async function writeAtomic(
  fs: CacheFs,
  dir: string,
  tmpPath: string,
  finalPath: string,
  data: Buffer,
  onSoftError?: SoftErrorSink,
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
  await syncDirectory(fs, dir, onSoftError);
}

/**
 * Reads a regular file of at most `maxBytes`; for a bigger one returns its size without reading it.
 * Throws EISDIR for a directory.
 */
export async function readBounded(fs: CacheFs, path: string, maxBytes: number, onSoftError?: SoftErrorSink): Promise<Buffer | { oversize: number }> {
  const handle = await fs.open(path, "r");
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    if (!st.isFile()) throw Object.assign(new Error("EINVAL"), { code: "EINVAL" });
    if (st.size > maxBytes) return { oversize: st.size };
    return await handle.readFile();
  } finally {
    // The data was read; a failing close is still news about the disk.
    await handle.close().catch((err: unknown) => onSoftError?.(err));
  }
}

/** Codes that mean "this platform or file system cannot fsync a directory", not "the disk failed". */
const CANNOT_SYNC_DIR = new Set(["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EPERM", "EISDIR", "EBADF"]);

/**
 * fsyncs a directory so a rename or unlink in it is durable. Where the platform cannot (EINVAL, ENOTSUP...)
 * it is skipped quietly: the rename itself is already atomic. Any other failure (EIO) is reported to
 * onSoftError: the write stands, but the disk is failing and that must be counted.
 */
export async function syncDirectory(fs: CacheFs, dir: string, onSoftError?: SoftErrorSink): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !CANNOT_SYNC_DIR.has(code)) onSoftError?.(err);
  } finally {
    await handle?.close().catch((err: unknown) => onSoftError?.(err));
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
