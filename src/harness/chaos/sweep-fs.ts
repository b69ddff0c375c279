/** The file systems of the sweeps: one that records the order of operations, one that loses power. */
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
