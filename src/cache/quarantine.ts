/**
 * The quarantine directory of the disk store: bad record files are moved here (never deleted at once, so
 * they can be inspected) under `<time>-<seq>.<original name>.<reason>`, and the directory is kept under a
 * byte budget by deleting its oldest files. If a file cannot be moved it is deleted instead.
 */
import { join } from "node:path";
import type { CacheFs } from "./cache-fs.js";
import { CacheIoError, errorCode } from "./cache-io-error.js";

export interface QuarantineOptions {
  fs: CacheFs;
  /** The quarantine directory (absolute). */
  dir: string;
  maxBytes: number;
  /** Wall clock (ms) used to order quarantined files by age. */
  now: () => number;
}

export interface QuarantineStats {
  files: number;
  bytes: number;
}

interface Entry {
  name: string;
  size: number;
}

const NAME = /^\d{15}-\d{6}\./;

export class Quarantine {
  /** Oldest first. */
  private entries: Entry[] = [];
  private seq = 0;

  constructor(private readonly opts: QuarantineOptions) {}

  get stats(): QuarantineStats {
    return { files: this.entries.length, bytes: this.entries.reduce((sum, e) => sum + e.size, 0) };
  }

  /** Reads what an earlier run left in the quarantine, then trims it to the budget. Never throws. */
  async load(): Promise<CacheIoError | undefined> {
    let names: string[];
    try {
      names = await this.opts.fs.readdir(this.opts.dir);
    } catch (err) {
      return CacheIoError.from(err, "quarantine");
    }
    const found: Entry[] = [];
    for (const name of names) {
      try {
        const st = await this.opts.fs.stat(join(this.opts.dir, name));
        if (st.isFile()) found.push({ name, size: st.size });
      } catch {
        // vanished or unreadable: not ours to account for
      }
    }
    // Files named by us sort by time; anything else counts as oldest.
    const order = (e: Entry): string => (NAME.test(e.name) ? `1${e.name}` : `0${e.name}`);
    this.entries = found.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    return this.trim();
  }

  /**
   * Moves `sourcePath` (base name `fileName`, `size` bytes) into the quarantine with the reason as suffix;
   * when the move fails the file is deleted. Returns an error only if the bad file is still in place.
   */
  async add(sourcePath: string, fileName: string, reason: string, size: number): Promise<CacheIoError | undefined> {
    const name = this.nextName(fileName, reason);
    try {
      await this.opts.fs.rename(sourcePath, join(this.opts.dir, name));
      this.entries.push({ name, size });
    } catch (moveErr) {
      if (errorCode(moveErr) === "ENOENT") return undefined;
      try {
        await this.opts.fs.unlink(sourcePath);
      } catch (err) {
        if (errorCode(err) !== "ENOENT") return CacheIoError.from(err, "quarantine", fileName);
      }
      return undefined;
    }
    await this.trim();
    return undefined;
  }

  private nextName(fileName: string, reason: string): string {
    const time = String(Math.max(0, Math.floor(this.opts.now()))).padStart(15, "0").slice(-15);
    let name: string;
    do {
      name = `${time}-${String(this.seq++ % 1_000_000).padStart(6, "0")}.${fileName}.${reason}`;
    } while (this.entries.some((e) => e.name === name));
    return name;
  }

  private async trim(): Promise<CacheIoError | undefined> {
    let total = this.stats.bytes;
    let firstError: CacheIoError | undefined;
    while (total > this.opts.maxBytes && this.entries.length > 0) {
      const oldest = this.entries.shift() as Entry;
      total -= oldest.size;
      try {
        await this.opts.fs.unlink(join(this.opts.dir, oldest.name));
      } catch (err) {
        if (errorCode(err) !== "ENOENT") firstError ??= CacheIoError.from(err, "quarantine", oldest.name);
      }
    }
    return firstError;
  }
}
