/**
 * The response cache against a misbehaving disk: stalls, unusable record paths, a failed open, clears racing
 * the start-up scan, the disk budget and old models' directories.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { cacheKey } from "../../src/cache/cache-key.js";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import type { CacheFileHandle, CacheFs } from "../../src/cache/cache-fs.js";
import type { CacheIoError } from "../../src/cache/cache-io-error.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { createResponseCache, type ResponseCacheOptions } from "../../src/cache/response-cache.js";
import { CircuitBreaker } from "../../src/resilience/circuit-breaker.js";

const FP = "f".repeat(64);
const params = { maxTokens: 8, temperature: 0, topP: 1, seed: undefined, stop: [] as string[] };
const keyOf = (n: number) => cacheKey(FP, [{ role: "user", content: `prompt ${n}` }], params);
const valueOf = (n: number) => ({ text: `answer ${n}`, finishReason: "length" as const, promptTokens: n, completionTokens: 8 });
const tmp = () => mkdtempSync(join(tmpdir(), "gauntlet-rc-io-"));

/** The real file system, except that chosen operations hang until released (a stalled disk). */
class StallingFs implements CacheFs {
  stallReads = false;
  stallWrites = false;
  /** Calls that are hanging right now. */
  hanging = 0;
  private waiters: Array<() => void> = [];
  constructor(private readonly inner: CacheFs = nodeCacheFs) {}
  release(): void {
    this.stallReads = false;
    this.stallWrites = false;
    for (const w of this.waiters.splice(0)) w();
  }
  private async gate(stall: boolean): Promise<void> {
    if (!stall) return;
    this.hanging++;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.hanging--;
  }
  mkdir = (p: string, o: { recursive: true }) => this.inner.mkdir(p, o);
  readdir = (p: string) => this.inner.readdir(p);
  rename = (a: string, b: string) => this.inner.rename(a, b);
  unlink = (p: string) => this.inner.unlink(p);
  stat = (p: string) => this.inner.stat(p);
  async open(path: string, flags: string, mode?: number): Promise<CacheFileHandle> {
    const h = await this.inner.open(path, flags, mode);
    return {
      writeFile: (d) => h.writeFile(d),
      readFile: async () => {
        await this.gate(this.stallReads);
        return h.readFile();
      },
      stat: () => h.stat(),
      sync: async () => {
        await this.gate(this.stallWrites && flags === "wx");
        return h.sync();
      },
      close: () => h.close(),
    };
  }
}

function cache(over: Partial<ResponseCacheOptions> = {}) {
  const events = { hits: 0, misses: 0, ioErrors: [] as string[], unusable: [] as string[], corruptions: [] as string[], recovered: 0, stored: 0 };
  const c = createResponseCache({
    dir: tmp(),
    fingerprint: FP,
    maxBytes: 1 << 20,
    quarantineMaxBytes: 1 << 20,
    ioTimeoutMs: 50,
    events: {
      hit: () => void events.hits++,
      miss: () => void events.misses++,
      ioError: (e: CacheIoError) => void events.ioErrors.push(`${e.op} ${e.code}`),
      unusable: (e: CacheIoError) => void events.unusable.push(`${e.op} ${e.code}`),
      corruption: (r) => void events.corruptions.push(r),
      recovered: () => void events.recovered++,
      stored: () => void events.stored++,
    },
    ...over,
  });
  return { c, events };
}

/** Resolves with the value, or "no answer within 10 s" (a liveness bound, not a timing check). */
const within10s = <T>(p: Promise<T>) =>
  Promise.race([p, new Promise<string>((r) => setTimeout(() => r("no answer within 10 s"), 10_000).unref())]);

describe("response cache: a stalled disk never holds a request", () => {
  test("store answers at once and persists in the background; lookups are served meanwhile, even with no memory", async () => {
    const fs = new StallingFs();
    const { c, events } = cache({ fs, maxBytes: 0, ioTimeoutMs: 60_000 });
    await c.open();
    await c.ready();
    fs.stallWrites = true;
    expect(c.store(keyOf(1), valueOf(1))).toBeUndefined();
    expect(await within10s(c.lookup(keyOf(1)))).toEqual(valueOf(1));
    expect(c.stats().pendingWrites).toBe(1);
    expect(events.stored).toBe(0);
    fs.release();
    await c.flush();
    expect(events.stored).toBe(1);
    expect(c.stats()).toMatchObject({ pendingWrites: 0, diskEntries: 1 });
  });

  test("a lookup on a stalled disk gives up after the time bound, counts a breaker failure, and repeated ones open the breaker", async () => {
    const fs = new StallingFs();
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 60_000 });
    const { c, events } = cache({ fs, breaker, maxBytes: 0 });
    await c.open();
    c.store(keyOf(1), valueOf(1));
    await c.flush();
    fs.stallReads = true;
    for (let i = 0; i < 3; i++) expect(await within10s(c.lookup(keyOf(1)))).toBeNull();
    expect(events.ioErrors).toEqual(["get ETIMEDOUT", "get ETIMEDOUT", "get ETIMEDOUT"]);
    expect(breaker.state).toBe("open");
    expect(c.stats().lookupTimeouts).toBe(3);
    // Open: no more disk reads are even tried.
    const hangingBefore = fs.hanging;
    expect(await c.lookup(keyOf(1))).toBeNull();
    expect(fs.hanging).toBe(hangingBefore);
    fs.release();
  });

  test("a write that stalls past the bound counts as a breaker failure once, and a late success changes nothing", async () => {
    const fs = new StallingFs();
    const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 60_000 });
    const { c, events } = cache({ fs, breaker });
    await c.open();
    fs.stallWrites = true;
    c.store(keyOf(1), valueOf(1));
    await c.flush();
    expect(breaker.stats).toMatchObject({ failures: 1, successes: 0 });
    expect(events.ioErrors).toEqual(["put ETIMEDOUT"]);
    expect(c.stats().writeTimeouts).toBe(1);
    fs.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(breaker.stats).toMatchObject({ failures: 1, successes: 0 });
  });

  test("past the bound on pending writes new ones are dropped, counted, and still served from memory", async () => {
    const fs = new StallingFs();
    const { c } = cache({ fs, ioTimeoutMs: 60_000, maxPendingWrites: 2 });
    await c.open();
    fs.stallWrites = true;
    for (const n of [1, 2, 3]) c.store(keyOf(n), valueOf(n));
    expect(c.stats()).toMatchObject({ pendingWrites: 2, droppedWrites: 1 });
    expect(await c.lookup(keyOf(3))).toEqual(valueOf(3));
    fs.release();
    await c.flush();
  });
});

describe("response cache: one unusable record path is that key's problem only", () => {
  test("repeated lookups and puts of a key whose path is a directory never open the breaker and are reported once", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000 });
    const { c, events } = cache({ breaker, maxBytes: 0 });
    await c.open();
    await c.ready();
    mkdirSync(join(c.dir, `${keyOf(1)}.rec`));
    for (let i = 0; i < 6; i++) {
      expect(await c.lookup(keyOf(1))).toBeNull();
      c.store(keyOf(1), valueOf(1));
      await c.flush();
    }
    expect(breaker.stats).toMatchObject({ state: "closed", failures: 0 });
    expect(events.unusable).toEqual(["get EISDIR"]);
    expect(events.ioErrors).toEqual([]);
    expect(c.stats().unusableRecords).toBe(1);
    // Every other key still works through the disk.
    c.store(keyOf(2), valueOf(2));
    await c.flush();
    expect(await c.lookup(keyOf(2))).toEqual(valueOf(2));
  });

  test("a store-wide failure (EIO) still counts against the breaker", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000 });
    const { c } = cache({ fs, breaker, maxBytes: 0 });
    await c.open();
    c.store(keyOf(1), valueOf(1));
    await c.flush();
    fs.inject({ op: "read", code: "EIO", times: 2 });
    await c.lookup(keyOf(1));
    await c.lookup(keyOf(1));
    expect(breaker.state).toBe("open");
  });
});

/** A file system whose record reads wait for a gate, so a test can act in the middle of the start-up scan. */
function gatedReads(): { fs: CacheFs; reads: () => number; open: () => void } {
  let opened = false;
  let waiting: Array<() => void> = [];
  let reads = 0;
  const fs: CacheFs = {
    ...nodeCacheFs,
    open: async (path, flags, mode) => {
      const h = await nodeCacheFs.open(path, flags, mode);
      return {
        ...h,
        writeFile: (d) => h.writeFile(d),
        stat: () => h.stat(),
        sync: () => h.sync(),
        close: () => h.close(),
        readFile: async () => {
          reads++;
          if (!opened) await new Promise<void>((r) => waiting.push(r));
          return h.readFile();
        },
      };
    },
  };
  return {
    fs,
    reads: () => reads,
    open: () => {
      opened = true;
      for (const w of waiting) w();
      waiting = [];
    },
  };
}

async function seeded(n: number): Promise<string> {
  const { c } = cache();
  await c.open();
  for (let i = 1; i <= n; i++) c.store(keyOf(i), valueOf(i));
  await c.flush();
  return c.dir;
}

describe("response cache: clears during the start-up scan", () => {
  test("DELETE /cache (clear) during the scan: no scanned entry comes back, in memory or on disk", async () => {
    const dir = await seeded(4);
    const gate = gatedReads();
    const { c } = cache({ dir, fs: gate.fs });
    await c.open();
    while (gate.reads() === 0) await new Promise((r) => setTimeout(r, 1));
    const cleared = c.clear();
    gate.open();
    await cleared;
    await c.ready();
    expect(c.stats()).toMatchObject({ memoryEntries: 0, diskEntries: 0 });
    for (let i = 1; i <= 4; i++) expect(await c.lookup(keyOf(i))).toBeNull();
  });

  test("a memory clear (memory guard) during the scan: the scan adds nothing more to memory, the disk still answers", async () => {
    const dir = await seeded(4);
    const gate = gatedReads();
    const { c } = cache({ dir, fs: gate.fs });
    await c.open();
    while (gate.reads() === 0) await new Promise((r) => setTimeout(r, 1));
    c.clearMemory();
    gate.open();
    await c.ready();
    expect(c.stats().memoryEntries).toBe(0);
    expect(c.stats().diskEntries).toBe(4);
    expect(await c.lookup(keyOf(2))).toEqual(valueOf(2));
  });

  test("a write pending when the cache is cleared never lands afterwards", async () => {
    const fs = new StallingFs();
    const { c } = cache({ fs, ioTimeoutMs: 60_000, maxBytes: 0 });
    await c.open();
    fs.stallWrites = true;
    c.store(keyOf(1), valueOf(1));
    const cleared = c.clear();
    fs.release();
    await cleared;
    await c.flush();
    expect(await c.lookup(keyOf(1))).toBeNull();
    expect(readdirSync(c.dir).filter((f) => f.endsWith(".rec"))).toEqual([]);
  });
});

describe("response cache: opening the disk", () => {
  test("a failed open is retried later; until then the cache runs from memory and says why", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    fs.inject({ op: "mkdir", code: "EIO", times: 2 });
    const { c } = cache({ fs, reopenBaseMs: 10 });
    await c.open();
    expect(c.stats()).toMatchObject({ diskAvailable: false, diskError: "EIO" });
    c.store(keyOf(1), valueOf(1));
    expect(await c.lookup(keyOf(1))).toEqual(valueOf(1));
    for (let i = 0; i < 500 && !c.stats().diskAvailable; i++) await new Promise((r) => setTimeout(r, 10));
    expect(c.stats()).toMatchObject({ diskAvailable: true, diskError: null });
    await c.ready();
    c.store(keyOf(2), valueOf(2));
    await c.flush();
    expect(c.stats().diskEntries).toBe(1);
    await c.close();
  });

  test("close stops the retries", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    fs.inject({ op: "mkdir", code: "EIO", times: 1000 });
    const { c } = cache({ fs, reopenBaseMs: 10 });
    await c.open();
    await c.close();
    const tries = fs.counts.mkdir;
    await new Promise((r) => setTimeout(r, 80));
    expect(fs.counts.mkdir).toBe(tries);
  });

  test("record directories of other models are removed at open and reported", async () => {
    const root = tmp();
    mkdirSync(join(root, "0123456789abcdef", "quarantine"), { recursive: true });
    writeFileSync(join(root, "0123456789abcdef", `${"1".repeat(64)}.rec`), "old");
    const removed: Array<{ dirs: number; files: number; bytes: number }> = [];
    const { c } = cache({ dir: join(root, FP.slice(0, 16)), pruneOtherModels: true, events: { staleModelsRemoved: (r) => void removed.push(r) } });
    await c.open();
    expect(removed).toEqual([{ dirs: 1, files: 1, bytes: 3 }]);
    expect(c.stats().staleModelDirsRemoved).toBe(1);
    expect(readdirSync(root)).toEqual([FP.slice(0, 16)]);
  });
});

describe("response cache: budget, stats and recoveries", () => {
  test("the disk budget keeps the directory bounded; hits served from memory keep their disk copy", async () => {
    const { c } = cache({ diskMaxBytes: 2000 });
    await c.open();
    for (let i = 1; i <= 20; i++) {
      c.store(keyOf(i), valueOf(i));
      await c.flush();
    }
    const st = c.stats();
    expect(st.diskBytes).toBeLessThanOrEqual(2000);
    expect(st.diskEntries).toBeLessThan(20);
    expect(st.diskEvictions).toBe(20 - st.diskEntries);
    // The newest record is on disk.
    expect(readdirSync(c.dir)).toContain(`${keyOf(20)}.rec`);
  });

  test("stats count hits and misses and entries across memory and disk", async () => {
    const { c } = cache();
    await c.open();
    expect(await c.lookup(keyOf(1))).toBeNull();
    c.store(keyOf(1), valueOf(1));
    await c.flush();
    await c.lookup(keyOf(1));
    const st = c.stats();
    expect(st).toMatchObject({ hits: 1, misses: 1, entries: 1, memoryEntries: 1, diskEntries: 1 });
    expect(st.bytes).toBe(st.memoryBytes + st.diskBytes);
    await c.clear();
    expect(c.stats()).toMatchObject({ entries: 0, bytes: 0, memoryEntries: 0, diskEntries: 0 });
  });

  test("a corrupt record regenerated and stored again is a recovery; one never stored again is not", async () => {
    const dir = await seeded(2);
    writeFileSync(join(dir, `${keyOf(1)}.rec`), "GAUNTLET-CACHE\n{garbage");
    writeFileSync(join(dir, `${keyOf(2)}.rec`), "GAUNTLET-CACHE\n{garbage");
    const { c, events } = cache({ dir, maxBytes: 0 });
    await c.open();
    await c.ready();
    expect(events.corruptions).toHaveLength(2);
    c.store(keyOf(1), valueOf(1));
    await c.flush();
    expect(events.recovered).toBe(1);
    expect(c.stats()).toMatchObject({ corruptions: 2, recoveries: 1 });
    c.store(keyOf(1), valueOf(1));
    await c.flush();
    expect(events.recovered).toBe(1);
  });
});

describe("response cache: answers stored while the disk store is still opening", () => {
  test("are written once it is open", async () => {
    let releaseOpen: () => void = () => undefined;
    const gate = new Promise<void>((r) => (releaseOpen = r));
    const fs: CacheFs = { ...nodeCacheFs, mkdir: async (p, o) => (await gate, nodeCacheFs.mkdir(p, o)) };
    const { c } = cache({ fs });
    const opened = c.open();
    c.store(keyOf(1), valueOf(1));
    expect(c.stats().diskAvailable).toBe(false);
    releaseOpen();
    await opened;
    for (let i = 0; i < 500 && c.stats().diskEntries === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(c.stats().diskEntries).toBe(1);
  });
});

describe("response cache: a memory clear is not a clear", () => {
  test("a write pending during a memory clear (memory guard) still lands and stays on disk", async () => {
    const fs = new StallingFs();
    const { c } = cache({ fs, ioTimeoutMs: 60_000 });
    await c.open();
    await c.ready();
    fs.stallWrites = true;
    c.store(keyOf(1), valueOf(1));
    c.clearMemory();
    fs.release();
    await c.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(c.dir)).toContain(`${keyOf(1)}.rec`);
    expect(await c.lookup(keyOf(1))).toEqual(valueOf(1));
  });
});
