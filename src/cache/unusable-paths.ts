/**
 * Record paths of the disk store that cannot be used although the store works: a directory, a FIFO or
 * another non-regular file where a record should be, or a file that cannot be read in a directory that can.
 * Such a path is a problem of that one key: it is reported once (until the key is usable again) and never
 * counts as a failure of the store. Failures of the store as a whole (EIO, ENOSPC, EROFS, an unreadable
 * directory) are not classified here.
 */
import type { CacheFs } from "./cache-fs.js";
import type { CacheIoError } from "./cache-io-error.js";

/** Codes that concern one path only: something other than a readable regular file sits where the record should. */
const PER_PATH_CODES = new Set(["EISDIR", "EINVAL", "ELOOP", "ENXIO", "ENODEV"]);
/** Codes that concern one path if the directory itself is still readable. */
const PERMISSION_CODES = new Set(["EACCES", "EPERM"]);
/** How many unusable keys are remembered (so each is reported once). */
const MAX_KEYS = 4096;

export class UnusablePaths {
  /** Insertion order: oldest first. */
  private readonly keys = new Set<string>();

  constructor(
    private readonly fs: CacheFs,
    private readonly dir: string,
    private readonly onUnusable: ((error: CacheIoError) => void) | undefined,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  /** Whether a read failure with `code` is a problem of that one path (the directory still reads). */
  async concernsOnePath(code: string): Promise<boolean> {
    if (PER_PATH_CODES.has(code)) return true;
    if (!PERMISSION_CODES.has(code)) return false;
    try {
      await (await this.fs.open(this.dir, "r")).close();
      return true;
    } catch {
      return false;
    }
  }

  /** Remembers an unusable key; reports it the first time only. Returns `error`. */
  mark(key: string, error: CacheIoError): CacheIoError {
    if (this.keys.has(key)) return error;
    this.keys.add(key);
    if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.values().next().value as string);
    try {
      this.onUnusable?.(error);
    } catch {
      // a listener's bug must not break the store
    }
    return error;
  }

  /** The key's path was found usable (a record read or written, or nothing there). */
  usable(key: string): void {
    this.keys.delete(key);
  }
}
