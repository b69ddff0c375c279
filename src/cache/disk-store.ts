/**
 * The persistent response cache: one file per record, `<dir>/<key>.rec`, in the framing of record-codec.
 *
 * Error style: no method throws or rejects. Every failure comes back as a typed result carrying a
 * CacheIoError (`{ ok: false, error }`, or a miss with `reason: "io-error"`), so the caller can always serve
 * without the cache. Writes go to `<key>.rec.<random>.tmp`, are fsynced, renamed into place, and the
 * directory is fsynced (best effort). Every read re-validates the record; a bad one is moved to
 * `<dir>/quarantine/` and reported as a miss with its CorruptionReason. Temp files left by a crash are
 * removed by open(). A directory, a FIFO or an unreadable file where a record should be (in a directory that
 * is itself readable) is "unusable": a problem of that one key, reported once, never quarantined or removed.
 * Failures of the store as a whole (EIO, ENOSPC, EROFS, an unreadable directory) are io-errors. Past
 * `maxTotalBytes` the least recently used records are deleted. The directory is assumed to belong to one process.
 */
import { join } from "node:path";
import { nodeCacheFs } from "./cache-fs.js";
import type { CacheFs } from "./cache-fs.js";
import { CacheIoError, errorCode } from "./cache-io-error.js";
import type { CacheOp } from "./cache-io-error.js";
import { readBounded, syncDirectory, unlinkQuietly, writeAtomic } from "./file-ops.js";
import { KeyedLock } from "./keyed-lock.js";
import { Quarantine } from "./quarantine.js";
import { RecordIndex } from "./record-index.js";
import { UnusablePaths } from "./unusable-paths.js";
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
  /** Byte budget of the record files: past it the least recently used are deleted (default 256 MiB). */
  maxTotalBytes?: number | undefined;
  /** Wall clock (ms), used to order quarantined files (default Date.now). */
  now?: (() => number) | undefined;
  /** Random source for temp-file names (default Math.random). */
  random?: (() => number) | undefined;
  /** Called for every bad record found, with the file's base name. Exceptions are ignored. */
  onCorruption?: ((reason: CorruptionReason, fileName: string) => void) | undefined;
  /** Called for every I/O failure of the store as a whole. Exceptions are ignored. */
  onIoError?: ((error: CacheIoError) => void) | undefined;
  /** Called once per key whose record path cannot be used (until it is usable again). Exceptions are ignored. */
  onUnusable?: ((error: CacheIoError) => void) | undefined;
}

export type OpenResult = { ok: true; tempFilesRemoved: number } | { ok: false; error: CacheIoError };
export type WriteResult = { ok: true; evicted?: number } | { ok: false; error: CacheIoError; unusable?: true };
export type ClearResult = { ok: true; removed: number } | { ok: false; error: CacheIoError };
export type MissReason = "absent" | "invalid-key" | "unavailable" | CorruptionReason;
export type GetResult =
  | { hit: true; record: CacheRecord }
  | { hit: false; reason: MissReason }
  | { hit: false; reason: "io-error" | "unusable"; error: CacheIoError };
export type ScanResult =
  | {
      ok: true;
      valid: number;
      corrupt: Record<CorruptionReason, number>;
      /** Record files that could not be read because the store failed (EIO...): left in place. */
      ioErrors: number;
      /** Record paths that cannot be used (a directory, a FIFO, an unreadable file): left in place. */
      unusable: number;
      /** Oldest records deleted to bring the directory under its budget. */
      evicted: number;
      /** Files that are not records (temp files of writes in flight, foreign files). */
      ignored: number;
    }
  | { ok: false; error: CacheIoError };

export interface DiskStoreStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  /** Records deleted to stay under maxBytes, since start. */
  evictions: number;
  /** Keys whose record path is currently known to be unusable. */
  unusable: number;
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
  private readonly maxTotalBytes: number;
  /** Every record known to be valid on disk, least recently used first. */
  private readonly index = new RecordIndex();
  private readonly unusable: UnusablePaths;
  private evictions = 0;
  /** Puts run one after another (see put). */
  private putQueue: Promise<unknown> = Promise.resolve();
  private isOpen = false;
  private tempSeq = 0;
  private last: CacheIoError | undefined;

  constructor(private readonly opts: DiskStoreOptions) {
    this.fs = opts.fs ?? nodeCacheFs;
    this.maxRecordBytes = opts.maxRecordBytes ?? 8 * 1024 * 1024;
    this.maxTotalBytes = opts.maxTotalBytes ?? 256 * 1024 * 1024;
    this.random = opts.random ?? Math.random;
    this.quarantine = new Quarantine({
      fs: this.fs,
      dir: join(opts.dir, QUARANTINE_DIR),
      maxBytes: opts.quarantineMaxBytes ?? 16 * 1024 * 1024,
      now: opts.now ?? Date.now,
    });
    this.unusable = new UnusablePaths(this.fs, opts.dir, opts.onUnusable);
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
    const q = this.quarantine.stats;
    return {
      entries: this.index.size,
      bytes: this.index.bytes,
      maxBytes: this.maxTotalBytes,
      evictions: this.evictions,
      unusable: this.unusable.size,
      quarantineFiles: q.files,
      quarantineBytes: q.bytes,
    };
  }

  /** Whether a valid record of `key` is known to be on disk. */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Marks a record as just used (a hit served from memory), so the disk budget keeps it longest. */
  touch(key: string): void {
    this.index.touch(key);
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
    // Cleared before listing: a put that lands while the scan runs is either listed or indexed by itself.
    this.index.clear();
    const scanStart = this.index.seq;
    let names: string[];
    try {
      names = await this.fs.readdir(this.opts.dir);
    } catch (err) {
      return { ok: false, error: this.report(CacheIoError.from(err, "scan")) };
    }
    const corrupt = Object.fromEntries(CORRUPTION_REASONS.map((r) => [r, 0])) as Record<CorruptionReason, number>;
    let valid = 0;
    let ioErrors = 0;
    let unusable = 0;
    let ignored = 0;
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
      else if (seen.reason === "unusable") unusable++;
      else if (isCorruption(seen.reason)) corrupt[seen.reason]++;
    }
    // Nothing remembers which records were used before this run: the oldest records go first.
    this.index.orderUnusedByAge(scanStart);
    const evicted = await this.enforceBudget();
    return { ok: true, valid, corrupt, ioErrors, unusable, evicted, ignored };
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
    if (data.length > this.maxRecordBytes || data.length > this.maxTotalBytes) {
      return { ok: false, error: new CacheIoError("put", "EFBIG", fileName) };
    }
    // One put at a time, each followed by the evictions it makes necessary: the record files exceed the budget
    // by at most the one record being written, and only until its evictions are done. Room is not made before
    // the write, so a write that fails (a full disk) never costs a valid record. Writes happen after the answer
    // was sent (write-behind), so no client waits on this queue.
    const run = this.putQueue.then(() => this.putNow(record, fileName, data));
    this.putQueue = run.catch(() => undefined);
    return run;
  }

  private async putNow(record: CacheRecord, fileName: string, data: Buffer): Promise<WriteResult> {
    const written = await this.write(record, fileName, data);
    if (!written.ok) return written;
    const evicted = await this.enforceBudget(record.key);
    return evicted > 0 ? { ok: true, evicted } : { ok: true };
  }

  /** Writes the record under its key's lock. */
  private write(record: CacheRecord, fileName: string, data: Buffer): Promise<WriteResult & { unusable?: boolean }> {
    return this.lock.run(record.key, async (): Promise<WriteResult & { unusable?: boolean }> => {
      const { dir } = this.opts;
      try {
        await writeAtomic(this.fs, dir, join(dir, this.tempName(record.key)), join(dir, fileName), data, (err) => this.report(CacheIoError.from(err, "put", fileName)));
      } catch (err) {
        const error = CacheIoError.from(err, "put", fileName);
        // Renaming onto a directory: that key's path is in the way, the store itself works.
        if (error.code === "EISDIR") return { ok: false, error: this.unusable.mark(record.key, error), unusable: true };
        return { ok: false, error: this.report(error) };
      }
      this.index.use(record.key, data.length, record.createdAt);
      this.unusable.usable(record.key);
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

  private async remove(key: string, op: CacheOp, durable = true): Promise<WriteResult> {
    try {
      await this.fs.unlink(join(this.opts.dir, `${key}.rec`));
    } catch (err) {
      if (errorCode(err) !== "ENOENT") return { ok: false, error: this.report(CacheIoError.from(err, op, `${key}.rec`)) };
    }
    this.index.delete(key);
    if (durable) await syncDirectory(this.fs, this.opts.dir, (err) => this.report(CacheIoError.from(err, op, `${key}.rec`)));
    return { ok: true };
  }

  /**
   * Deletes least recently used records until the total is within the budget; `keep` (the record just
   * written) is never chosen. A record written or used again while its eviction waited for its lock stays.
   * Stops at the first failed delete (reported). Returns how many records were deleted.
   */
  private async enforceBudget(keep?: string): Promise<number> {
    let evicted = 0;
    for (let rounds = this.index.size + 8; this.index.bytes > this.maxTotalBytes && rounds > 0; rounds--) {
      const victim = this.index.oldest(keep);
      if (victim === undefined) break;
      const [key, entry] = victim;
      const outcome = await this.lock.run(key, async () => {
        if (this.index.get(key) !== entry) return "moved" as const;
        return (await this.remove(key, "evict", false)).ok ? ("deleted" as const) : ("failed" as const);
      });
      if (outcome === "failed") break;
      if (outcome === "deleted") {
        evicted++;
        this.evictions++;
      }
    }
    return evicted;
  }

  /** Reads and validates one record under its key's lock; quarantines it if bad. */
  private inspect(key: string, op: CacheOp): Promise<GetResult> {
    return this.lock.run(key, async () => {
      const fileName = `${key}.rec`;
      const path = join(this.opts.dir, fileName);
      let read: Buffer | { oversize: number };
      try {
        read = await readBounded(this.fs, path, this.maxRecordBytes, (err) => this.report(CacheIoError.from(err, op, fileName)));
      } catch (err) {
        this.index.delete(key);
        if (errorCode(err) === "ENOENT") {
          this.unusable.usable(key);
          return { hit: false, reason: "absent" };
        }
        const error = CacheIoError.from(err, op, fileName);
        if (await this.unusable.concernsOnePath(error.code)) return { hit: false, reason: "unusable", error: this.unusable.mark(key, error) };
        return { hit: false, reason: "io-error", error: this.report(error) };
      }
      const decoded = Buffer.isBuffer(read)
        ? decodeRecord(read, { fingerprint: this.opts.fingerprint, maxBytes: this.maxRecordBytes, key })
        : ({ ok: false, reason: "oversize" } as const);
      const size = Buffer.isBuffer(read) ? read.length : read.oversize;
      this.unusable.usable(key);
      if (decoded.ok) {
        if (op === "scan") this.index.found(key, size, decoded.record.createdAt);
        else this.index.use(key, size, decoded.record.createdAt);
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
