/**
 * The one error type of the response cache. Its message names the operation, the error code and at most a
 * base file name: never an absolute path, never cached prompt or completion text.
 */
export type CacheOp = "open" | "scan" | "get" | "put" | "delete" | "clear" | "quarantine" | "evict" | "prune";

export class CacheIoError extends Error {
  override readonly name = "CacheIoError";
  /** errno-style code: ENOSPC, EIO, EACCES, EROFS, ENOTDIR, EISDIR..., or one of the store's own:
   * EUNAVAILABLE (store not open), EINVAL (bad key or record, or not a regular file), EFBIG (record above
   * maxRecordBytes or the disk budget), ETIMEDOUT (no answer within the I/O time bound), EUNKNOWN (the file
   * system failed without a code). */
  readonly code: string;
  readonly op: CacheOp;
  /** Base name of the file involved, if any. */
  readonly file: string | undefined;

  constructor(op: CacheOp, code: string, file?: string) {
    super(`cache ${op} failed: ${code}${file === undefined ? "" : ` (${file})`}`);
    this.code = code;
    this.op = op;
    this.file = file;
  }

  /** Wraps whatever a file system threw; only its `code` is kept (fs messages carry absolute paths). */
  static from(err: unknown, op: CacheOp, file?: string): CacheIoError {
    if (err instanceof CacheIoError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    return new CacheIoError(op, typeof code === "string" && /^[A-Z0-9_]{1,32}$/.test(code) ? code : "EUNKNOWN", file);
  }
}

/** The errno-style code of a thrown value, if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
