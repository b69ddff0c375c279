/**
 * A CacheFs wrapper that fails chosen operations on purpose: ENOSPC on the next write, EIO on the Nth
 * operation, EACCES for one file, or a crash (a partial write, then every later operation fails as if the
 * process had died). For tests and chaos runs; it adds nothing on the normal path.
 */
import type { CacheFileHandle, CacheFs, CacheStats } from "./cache-fs.js";

/** Path operations plus the handle operations (write = handle.writeFile, read = handle.readFile, ...). */
export type FsOp =
  | "mkdir"
  | "readdir"
  | "open"
  | "rename"
  | "unlink"
  | "stat"
  | "rm"
  | "write"
  | "read"
  | "fstat"
  | "sync"
  | "close";

export interface FaultRule {
  /** The operation to fail; "any" matches every operation. */
  op: FsOp | "any";
  code: string;
  /** How many matching operations fail (default 1). */
  times?: number;
  /** Only operations whose path matches (for handle operations: the path the handle was opened with). */
  match?: (path: string) => boolean;
  /** Fail only from the Nth matching operation on (1-based, default 1). */
  after?: number;
}

interface ActiveRule extends Required<Omit<FaultRule, "match">> {
  match: ((path: string) => boolean) | undefined;
  seen: number;
}

export class FaultInjectingFs implements CacheFs {
  /** Operations performed (or attempted) so far, per kind. */
  readonly counts: Record<FsOp, number> = {
    mkdir: 0, readdir: 0, open: 0, rename: 0, unlink: 0, stat: 0, rm: 0, write: 0, read: 0, fstat: 0, sync: 0, close: 0,
  };
  private rules: ActiveRule[] = [];
  private crashOnWrite: { partialBytes: number } | undefined;
  private dead = false;

  constructor(private readonly inner: CacheFs) {}

  /** Fails matching operations with an error carrying `code` (ENOSPC, EIO, EACCES...). */
  inject(rule: FaultRule): void {
    this.rules.push({ times: 1, after: 1, ...rule, match: rule.match, seen: 0 });
  }

  /** The next write stores only `partialBytes` bytes, then this fs behaves like a dead process. */
  crashOnNextWrite(partialBytes: number): void {
    this.crashOnWrite = { partialBytes };
  }

  get crashed(): boolean {
    return this.dead;
  }

  clearFaults(): void {
    this.rules = [];
    this.crashOnWrite = undefined;
  }

  get totalOps(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  mkdir(path: string, options: { recursive: true }): Promise<string | undefined> {
    return this.guard("mkdir", path, () => this.inner.mkdir(path, options));
  }
  readdir(path: string): Promise<string[]> {
    return this.guard("readdir", path, () => this.inner.readdir(path));
  }
  rename(from: string, to: string): Promise<void> {
    return this.guard("rename", from, () => this.inner.rename(from, to));
  }
  unlink(path: string): Promise<void> {
    return this.guard("unlink", path, () => this.inner.unlink(path));
  }
  stat(path: string): Promise<CacheStats> {
    return this.guard("stat", path, () => this.inner.stat(path));
  }
  rm(path: string, options: { recursive: true; force: true }): Promise<void> {
    return this.guard("rm", path, async () => {
      if (this.inner.rm === undefined) throw fsError("ENOSYS");
      return this.inner.rm(path, options);
    });
  }
  async open(path: string, flags: string, mode?: number): Promise<CacheFileHandle> {
    const handle = await this.guard("open", path, () => this.inner.open(path, flags, mode));
    return {
      writeFile: (data) => this.guard("write", path, () => this.write(handle, data)),
      readFile: () => this.guard("read", path, () => handle.readFile()),
      stat: () => this.guard("fstat", path, () => handle.stat()),
      sync: () => this.guard("sync", path, () => handle.sync()),
      // A failed close still releases the real descriptor (as the kernel does for a dead process).
      close: () => this.guard("close", path, () => handle.close()).catch(async (err: unknown) => {
        await handle.close().catch(() => undefined);
        throw err;
      }),
    };
  }

  private async write(handle: CacheFileHandle, data: Uint8Array): Promise<void> {
    const crash = this.crashOnWrite;
    if (crash === undefined) return handle.writeFile(data);
    this.crashOnWrite = undefined;
    await handle.writeFile(data.subarray(0, Math.min(crash.partialBytes, data.length)));
    this.dead = true;
    throw fsError("ECRASHED");
  }

  private async guard<T>(op: FsOp, path: string, run: () => Promise<T>): Promise<T> {
    this.counts[op]++;
    if (this.dead) throw fsError("ECRASHED");
    for (const rule of this.rules) {
      if (rule.times <= 0 || (rule.op !== "any" && rule.op !== op)) continue;
      if (rule.match !== undefined && !rule.match(path)) continue;
      rule.seen++;
      if (rule.seen < rule.after) continue;
      rule.times--;
      throw fsError(rule.code);
    }
    return run();
  }
}

function fsError(code: string): Error {
  return Object.assign(new Error(`injected ${code}`), { code });
}
