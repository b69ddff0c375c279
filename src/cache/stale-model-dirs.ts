/**
 * Record directories of models no longer served: the response cache keeps each model's records under
 * `<root>/<first 16 hex characters of its fingerprint>`, and records of another model can never be served
 * again. At start-up every such directory except the current model's is removed, and what was removed is
 * counted so the caller can log it. Only names of exactly 16 lowercase hex characters are touched.
 */
import { join } from "node:path";
import type { CacheFs } from "./cache-fs.js";
import { CacheIoError, errorCode } from "./cache-io-error.js";

export interface StaleModelDirsOptions {
  fs: CacheFs;
  /** The directory holding one record directory per model (cacheDir/responses). */
  root: string;
  /** The current model's directory name, never removed. */
  keep: string;
}

export type StaleModelDirsResult =
  | { ok: true; dirs: number; files: number; bytes: number }
  | { ok: false; dirs: number; files: number; bytes: number; error: CacheIoError };

const MODEL_DIR = /^[0-9a-f]{16}$/;

export async function removeStaleModelDirs(opts: StaleModelDirsOptions): Promise<StaleModelDirsResult> {
  const { fs, root, keep } = opts;
  const done = { dirs: 0, files: 0, bytes: 0 };
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (err) {
    if (errorCode(err) === "ENOENT") return { ok: true, ...done };
    return { ok: false, ...done, error: CacheIoError.from(err, "prune") };
  }
  const stale = names.filter((n) => MODEL_DIR.test(n) && n !== keep);
  if (stale.length === 0) return { ok: true, ...done };
  if (fs.rm === undefined) return { ok: false, ...done, error: new CacheIoError("prune", "ENOSYS") };
  for (const name of stale) {
    const path = join(root, name);
    try {
      if (!(await fs.stat(path)).isDirectory()) continue;
      const size = await measure(fs, path);
      await fs.rm(path, { recursive: true, force: true });
      done.dirs++;
      done.files += size.files;
      done.bytes += size.bytes;
    } catch (err) {
      return { ok: false, ...done, error: CacheIoError.from(err, "prune", name) };
    }
  }
  return { ok: true, ...done };
}

/** Files and bytes under a directory (best effort: what cannot be read is not counted). */
async function measure(fs: CacheFs, dir: string, depth = 0): Promise<{ files: number; bytes: number }> {
  const total = { files: 0, bytes: 0 };
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return total;
  }
  for (const name of names) {
    try {
      const st = await fs.stat(join(dir, name));
      if (st.isDirectory()) {
        if (depth < 4) {
          const inner = await measure(fs, join(dir, name), depth + 1);
          total.files += inner.files;
          total.bytes += inner.bytes;
        }
      } else {
        total.files++;
        total.bytes += st.size;
      }
    } catch {
      // vanished or unreadable: not counted
    }
  }
  return total;
}
