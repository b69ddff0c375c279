/**
 * The file systems of the sweeps: one that records the order of operations, one that loses power, one that
 * notes when the first operation failed.
 */
import { performance } from "node:perf_hooks";
import type { CacheFileHandle, CacheFs } from "../../cache/cache-fs.js";
import type { FaultInjectingFs } from "../../cache/fault-injecting-fs.js";

/** Records the kind of every file operation, in order (operation N of a run is `ops[N - 1]`). */
export class RecordingFs implements CacheFs {
  readonly ops: string[] = [];
  constructor(private readonly inner: CacheFs) {}
  private log<T>(op: string, run: () => Promise<T>): Promise<T> {
    this.ops.push(op);
    return run();
  }
  mkdir = (p: string, o: { recursive: true }) => this.log("mkdir", () => this.inner.mkdir(p, o));
  readdir = (p: string) => this.log("readdir", () => this.inner.readdir(p));
  rename = (a: string, b: string) => this.log("rename", () => this.inner.rename(a, b));
  unlink = (p: string) => this.log("unlink", () => this.inner.unlink(p));
  stat = (p: string) => this.log("stat", () => this.inner.stat(p));
  async open(path: string, flags: string, mode?: number): Promise<CacheFileHandle> {
    const h = await this.log(`open(${flags})`, () => this.inner.open(path, flags, mode));
    return {
      writeFile: (d) => this.log("write", () => h.writeFile(d)),
      readFile: () => this.log("read", () => h.readFile()),
      stat: () => this.log("fstat", () => h.stat()),
      sync: () => this.log("fsync", () => h.sync()),
      close: () => this.log("close", () => h.close()),
    };
  }
}

/** A file system that loses power at the Wth write: part of it lands, then every operation fails. */
export class PowerCutFs implements CacheFs {
  private writes = 0;
  constructor(private readonly inner: FaultInjectingFs, private readonly atWrite: number, private readonly partialBytes: number) {}
  get cut(): boolean {
    return this.inner.crashed;
  }
  mkdir = (p: string, o: { recursive: true }) => this.inner.mkdir(p, o);
  readdir = (p: string) => this.inner.readdir(p);
  rename = (a: string, b: string) => this.inner.rename(a, b);
  unlink = (p: string) => this.inner.unlink(p);
  stat = (p: string) => this.inner.stat(p);
  async open(path: string, flags: string, mode?: number): Promise<CacheFileHandle> {
    const h = await this.inner.open(path, flags, mode);
    return {
      ...h,
      writeFile: (data: Uint8Array) => {
        if (++this.writes === this.atWrite) this.inner.crashOnNextWrite(this.partialBytes);
        return h.writeFile(data);
      },
    };
  }
}

/**
 * Notes when an operation first fails with one of `codes` (performance.now()): the moment an injected fault
 * fired. Other failures (ENOENT: how the store learns a record is absent) are not faults. Also notes which
 * renames completed: records are written behind the answer, so an answer alone does not make a record durable.
 */
export class FaultClockFs implements CacheFs {
  /** When the first operation failed with one of the codes, or null. */
  firstFailureAt: number | null = null;
  /** Paths a rename completed onto: records that reached their place (written, synced, renamed). */
  readonly renamedTo = new Set<string>();
  constructor(private readonly inner: CacheFs, private readonly codes: readonly string[]) {}
  private timed<T>(run: () => Promise<T>): Promise<T> {
    return run().catch((err: unknown) => {
      if (this.codes.includes(String((err as NodeJS.ErrnoException)?.code))) this.firstFailureAt ??= performance.now();
      throw err;
    });
  }
  mkdir = (p: string, o: { recursive: true }) => this.timed(() => this.inner.mkdir(p, o));
  readdir = (p: string) => this.timed(() => this.inner.readdir(p));
  rename = (a: string, b: string) =>
    this.timed(async () => {
      await this.inner.rename(a, b);
      this.renamedTo.add(b);
    });
  unlink = (p: string) => this.timed(() => this.inner.unlink(p));
  stat = (p: string) => this.timed(() => this.inner.stat(p));
  async open(path: string, flags: string, mode?: number): Promise<CacheFileHandle> {
    const h = await this.timed(() => this.inner.open(path, flags, mode));
    return {
      writeFile: (d) => this.timed(() => h.writeFile(d)),
      readFile: () => this.timed(() => h.readFile()),
      stat: () => this.timed(() => h.stat()),
      sync: () => this.timed(() => h.sync()),
      close: () => this.timed(() => h.close()),
    };
  }
}
