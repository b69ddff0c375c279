/**
 * The persistent response cache: one file per record, `<dir>/<key>.rec`, in the framing of record-codec.
 *
 * Error style: no method throws or rejects. Every failure comes back as a typed result carrying a
 * CacheIoError (`{ ok: false, error }`, or a miss with `reason: "io-error"`), so the caller can always serve
 * without the cache. Writes go to `<key>.rec.<random>.tmp`, are fsynced, renamed into place, and the
 * directory is fsynced (best effort). Every read re-validates the record; a bad one is moved to
 * `<dir>/quarantine/` and reported as a miss with its CorruptionReason. Temp files left by a crash are
 * removed by open(). A directory or an unreadable file where a record should be is an io-error, never
 * quarantined or removed. The directory is assumed to belong to one process.
 */
import { join } from "node:path";
import { nodeCacheFs } from "./cache-fs.js";
import type { CacheFs } from "./cache-fs.js";
import { CacheIoError, errorCode } from "./cache-io-error.js";
import type { CacheOp } from "./cache-io-error.js";
import { readBounded, syncDirectory, unlinkQuietly, writeAtomic } from "./file-ops.js";
import { KeyedLock } from "./keyed-lock.js";
import { Quarantine } from "./quarantine.js";
import { CORRUPTION_REASONS, decodeRecord, encodeRecord, isRecordKey } from "./record-codec.js";
import type { CacheRecord, CorruptionReason } from "./record-codec.js";

export interface DiskStoreOptions {
  /** The cache directory; created (with parents) by open(). */
  dir: string;
  /** Fingerprint of the served model: records of other models are treated as corrupt. */
  fingerprint: string;
  fs?: CacheFs | undefined;
  /** Largest record file accepted on write and on read (default 8 MiB). */
  maxRecordBytes?: number | undefined;
  /** Byte budget of the quarantine directory (default 16 MiB). */
  quarantineMaxBytes?: number | undefined;
  /** Wall clock (ms), used to order quarantined files (default Date.now). */
  now?: (() => number) | undefined;
  /** Random source for temp-file names (default Math.random). */
  random?: (() => number) | undefined;
  /** Called for every bad record found, with the file's base name. Exceptions are ignored. */
  onCorruption?: ((reason: CorruptionReason, fileName: string) => void) | undefined;
  /** Called for every I/O failure reported in a result. Exceptions are ignored. */
  onIoError?: ((error: CacheIoError) => void) | undefined;
}

export type OpenResult = { ok: true; tempFilesRemoved: number } | { ok: false; error: CacheIoError };
export type WriteResult = { ok: true } | { ok: false; error: CacheIoError };
export type ClearResult = { ok: true; removed: number } | { ok: false; error: CacheIoError };
export type MissReason = "absent" | "invalid-key" | "unavailable" | CorruptionReason;
export type GetResult =
  | { hit: true; record: CacheRecord }
  | { hit: false; reason: MissReason }
  | { hit: false; reason: "io-error"; error: CacheIoError };
export type ScanResult =
  | {
      ok: true;
      valid: number;
      corrupt: Record<CorruptionReason, number>;
      /** Record files that could not be read (EACCES, EISDIR, EIO...): left in place. */
      ioErrors: number;
      /** Files that are not records (temp files of writes in flight, foreign files). */
      ignored: number;
    }
  | { ok: false; error: CacheIoError };

export interface DiskStoreStats {
  entries: number;
  bytes: number;
  quarantineFiles: number;
  quarantineBytes: number;
}

const RECORD_FILE = /^[0-9a-f]{64}\.rec$/;
const QUARANTINE_DIR = "quarantine";

export class DiskStore {
  private readonly fs: CacheFs;
  private readonly maxRecordBytes: number;
  private readonly random: () => number;
  private readonly quarantine: Quarantine;
  private readonly lock = new KeyedLock();
  /** Size in bytes of every record known to be valid on disk. */
  private readonly index = new Map<string, number>();
  private isOpen = false;
  private tempSeq = 0;
  private last: CacheIoError | undefined;

  constructor(private readonly opts: DiskStoreOptions) {
    this.fs = opts.fs ?? nodeCacheFs;
    this.maxRecordBytes = opts.maxRecordBytes ?? 8 * 1024 * 1024;
    this.random = opts.random ?? Math.random;
    this.quarantine = new Quarantine({
      fs: this.fs,
      dir: join(opts.dir, QUARANTINE_DIR),
      maxBytes: opts.quarantineMaxBytes ?? 16 * 1024 * 1024,
      now: opts.now ?? Date.now,
    });
  }

  /** False until open() succeeds. */
  get available(): boolean {
    return this.isOpen;
  }

  /** The most recent I/O failure, if any. */
  get lastError(): CacheIoError | undefined {
    return this.last;
  }

  get stats(): DiskStoreStats {
    let bytes = 0;
    for (const size of this.index.values()) bytes += size;
    const q = this.quarantine.stats;
    return { entries: this.index.size, bytes, quarantineFiles: q.files, quarantineBytes: q.bytes };
  }

  /** Creates the directories, checks the directory is readable and writable, removes stale temp files. */
  async open(): Promise<OpenResult> {
    this.isOpen = false;
    const { dir } = this.opts;
    try {
      await this.fs.mkdir(join(dir, QUARANTINE_DIR), { recursive: true });
      const names = await this.fs.readdir(dir);
      const probePath = join(dir, this.tempName("probe"));
      await (await this.fs.open(probePath, "wx", 0o644)).close();
      await this.fs.unlink(probePath);
      let tempFilesRemoved = 0;
      for (const name of names.filter((n) => n.endsWith(".tmp"))) {
        if (await unlinkQuietly(this.fs, join(dir, name))) tempFilesRemoved++;
      }
      const quarantineError = await this.quarantine.load();
      if (quarantineError !== undefined) this.report(quarantineError);
      this.isOpen = true;
      return { ok: true, tempFilesRemoved };
    } catch (err) {
      return { ok: false, error: this.report(CacheIoError.from(err, "open")) };
    }
  }

  /**
   * Reads every record file: valid ones go to `onRecord` (awaited; its exceptions are ignored), bad ones to
   * the quarantine. Rebuilds stats. Temp files are not touched here (a put may be in flight): open() cleans them.
   */
  async scan(onRecord: (record: CacheRecord) => void | Promise<void>): Promise<ScanResult> {
    if (!this.isOpen) return { ok: false, error: this.unavailable("scan") };
    let names: string[];
    try {
      names = await this.fs.readdir(this.opts.dir);
    } catch (err) {
      return { ok: false, error: this.report(CacheIoError.from(err, "scan")) };
    }
    const corrupt = Object.fromEntries(CORRUPTION_REASONS.map((r) => [r, 0])) as Record<CorruptionReason, number>;
    let valid = 0;
    let ioErrors = 0;
    let ignored = 0;
    this.index.clear();
    for (const name of names) {
      if (name === QUARANTINE_DIR) continue;
      if (!RECORD_FILE.test(name)) {
        ignored++;
        continue;
      }
      const seen = await this.inspect(name.slice(0, 64), "scan");
      if (seen.hit) {
        valid++;
        try {
          await onRecord(seen.record);
        } catch {
          // the consumer's problem; the record itself is fine
        }
      } else if (seen.reason === "io-error") ioErrors++;
      else if (isCorruption(seen.reason)) corrupt[seen.reason]++;
    }
    return { ok: true, valid, corrupt, ioErrors, ignored };
  }

  async get(key: string): Promise<GetResult> {
    if (!isRecordKey(key)) return { hit: false, reason: "invalid-key" };
    if (!this.isOpen) return { hit: false, reason: "unavailable" };
    return this.inspect(key, "get");
  }

  /** Writes the record atomically; on failure the previous record of the key (if any) is untouched. */
  async put(record: CacheRecord): Promise<WriteResult> {
    if (!this.isOpen) return { ok: false, error: this.unavailable("put") };
    const fileName = isRecordKey(record?.key) ? `${record.key}.rec` : undefined;
    if (fileName === undefined || record.fingerprint !== this.opts.fingerprint) {
      return { ok: false, error: new CacheIoError("put", "EINVAL") };
    }
    let data: Buffer;
    try {
      data = encodeRecord(record);
    } catch {
      return { ok: false, error: new CacheIoError("put", "EINVAL", fileName) };
    }
    if (data.length > this.maxRecordBytes) return { ok: false, error: new CacheIoError("put", "EFBIG", fileName) };
    return this.lock.run(record.key, async () => {
      const { dir } = this.opts;
      try {
        await writeAtomic(this.fs, dir, join(dir, this.tempName(record.key)), join(dir, fileName), data);
      } catch (err) {
        return { ok: false, error: this.report(CacheIoError.from(err, "put", fileName)) };
      }
      this.index.set(record.key, data.length);
      return { ok: true };
    });
  }

  async delete(key: string): Promise<WriteResult> {
    if (!isRecordKey(key)) return { ok: false, error: new CacheIoError("delete", "EINVAL") };
    if (!this.isOpen) return { ok: false, error: this.unavailable("delete") };
    return this.lock.run(key, () => this.remove(key, "delete"));
  }

  /** Deletes every record file; the quarantine is kept. */
  async clear(): Promise<ClearResult> {
    if (!this.isOpen) return { ok: false, error: this.unavailable("clear") };
    let names: string[];
    try {
      names = await this.fs.readdir(this.opts.dir);
    } catch (err) {
      return { ok: false, error: this.report(CacheIoError.from(err, "clear")) };
    }
    let removed = 0;
    let firstError: CacheIoError | undefined;
    for (const name of names.filter((n) => RECORD_FILE.test(n))) {
      const result = await this.lock.run(name.slice(0, 64), () => this.remove(name.slice(0, 64), "clear"));
      if (result.ok) removed++;
      else firstError ??= result.error;
    }
    this.index.clear();
    return firstError === undefined ? { ok: true, removed } : { ok: false, error: firstError };
  }

  private async remove(key: string, op: CacheOp): Promise<WriteResult> {
    try {
      await this.fs.unlink(join(this.opts.dir, `${key}.rec`));
    } catch (err) {
      if (errorCode(err) !== "ENOENT") return { ok: false, error: this.report(CacheIoError.from(err, op, `${key}.rec`)) };
    }
    this.index.delete(key);
    await syncDirectory(this.fs, this.opts.dir);
    return { ok: true };
  }

  /** Reads and validates one record under its key's lock; quarantines it if bad. */
  private inspect(key: string, op: CacheOp): Promise<GetResult> {
    return this.lock.run(key, async () => {
      const fileName = `${key}.rec`;
      const path = join(this.opts.dir, fileName);
      let read: Buffer | { oversize: number };
      try {
        read = await readBounded(this.fs, path, this.maxRecordBytes);
      } catch (err) {
        this.index.delete(key);
        if (errorCode(err) === "ENOENT") return { hit: false, reason: "absent" };
        return { hit: false, reason: "io-error", error: this.report(CacheIoError.from(err, op, fileName)) };
      }
      const decoded = Buffer.isBuffer(read)
        ? decodeRecord(read, { fingerprint: this.opts.fingerprint, maxBytes: this.maxRecordBytes, key })
        : ({ ok: false, reason: "oversize" } as const);
      const size = Buffer.isBuffer(read) ? read.length : read.oversize;
      if (decoded.ok) {
        this.index.set(key, size);
        return { hit: true, record: decoded.record };
      }
      const reason = decoded.reason;
      this.index.delete(key);
      const stuck = await this.quarantine.add(path, fileName, reason, size);
      if (stuck !== undefined) this.report(stuck);
      try {
        this.opts.onCorruption?.(reason, fileName);
      } catch {
        // a listener's bug must not break the cache
      }
      return { hit: false, reason };
    });
  }

  private tempName(stem: string): string {
    const rnd = Math.floor(this.random() * 0x1_0000_0000).toString(16).padStart(8, "0");
    return `${stem}.rec.${this.tempSeq++}-${rnd}.tmp`;
  }

  private unavailable(op: CacheOp): CacheIoError {
    return new CacheIoError(op, "EUNAVAILABLE");
  }

  private report(error: CacheIoError): CacheIoError {
    this.last = error;
    try {
      this.opts.onIoError?.(error);
    } catch {
      // ignored, see onIoError
    }
    return error;
  }
}

function isCorruption(reason: string): reason is CorruptionReason {
  return (CORRUPTION_REASONS as readonly string[]).includes(reason);
}
