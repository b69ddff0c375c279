import { mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import type { CacheFs } from "../../src/cache/cache-fs.js";
import { DiskStore } from "../../src/cache/disk-store.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { CORRUPTION_REASONS, encodeRecord } from "../../src/cache/record-codec.js";
import type { CacheRecord } from "../../src/cache/record-codec.js";

const FP = "c".repeat(64);
const KEYS = ["1", "2", "3", "4"].map((d) => d.repeat(64));

/**
 * What the store must hold: values, keys whose file was damaged behind its back, a pending disk-full, and for
 * the disk budget the recency order (least recently used first) and each record's size as the store knows it.
 */
interface Model {
  values: Map<string, CacheRecord>;
  corrupted: Set<string>;
  diskFull: boolean;
  budget: number;
  order: string[];
  sizes: Map<string, number>;
  clock: number;
}

const touch = (m: Model, key: string): void => {
  m.order = [...m.order.filter((k) => k !== key), key];
};
const forget = (m: Model, key: string): void => {
  m.values.delete(key);
  m.corrupted.delete(key);
  m.sizes.delete(key);
  m.order = m.order.filter((k) => k !== key);
};
/** The store deletes least recently used records (never `keep`) until the total fits the budget. */
function evict(m: Model, keep?: string): void {
  const total = () => [...m.sizes.values()].reduce((a, b) => a + b, 0);
  while (total() > m.budget) {
    const victim = m.order.find((k) => k !== keep);
    if (victim === undefined) return;
    forget(m, victim);
  }
}
interface Real {
  dir: string;
  store: DiskStore;
  fs: FaultInjectingFs;
}

const recordFor = (key: string, text: string, n: number): CacheRecord => ({
  key,
  fingerprint: FP,
  createdAt: n,
  value: { text, finishReason: n % 2 === 0 ? "stop" : "length", promptTokens: n, completionTokens: text.length },
});
const fileOf = (r: Real, key: string): string => join(r.dir, `${key}.rec`);

/**
 * The real file system with fsync made a no-op: what fsync buys (surviving power loss) cannot be observed
 * in-process, crashes are simulated by FaultInjectingFs, and real fsyncs would triple this suite's time.
 */
const noFsync: CacheFs = {
  ...nodeCacheFs,
  open: async (path, flags, mode) => {
    const h = await nodeCacheFs.open(path, flags, mode);
    return {
      writeFile: (data) => h.writeFile(data),
      readFile: () => h.readFile(),
      stat: () => h.stat(),
      close: () => h.close(),
      sync: async () => undefined,
    };
  },
};

async function newStore(dir: string, budget: number): Promise<{ store: DiskStore; fs: FaultInjectingFs }> {
  const fs = new FaultInjectingFs(noFsync);
  const store = new DiskStore({ dir, fingerprint: FP, fs, quarantineMaxBytes: 4096, maxTotalBytes: Number.isFinite(budget) ? budget : undefined });
  expect((await store.open()).ok).toBe(true);
  return { store, fs };
}

/** A new DiskStore on the same directory: scan must yield exactly the intact records and drop the damaged. */
async function restart(m: Model, r: Real): Promise<void> {
  Object.assign(r, await newStore(r.dir, m.budget));
  m.diskFull = false;
  const seen = new Map<string, CacheRecord>();
  const result = await r.store.scan((rec) => void seen.set(rec.key, rec));
  if (!result.ok) throw result.error;
  const expected = new Map([...m.values].filter(([k]) => !m.corrupted.has(k)));
  expect(seen).toEqual(expected);
  const corrupt = CORRUPTION_REASONS.reduce((sum, reason) => sum + result.corrupt[reason], 0);
  expect(corrupt).toBe(m.corrupted.size);
  expect(result.ioErrors).toBe(0);
  m.values = expected;
  m.corrupted.clear();
  // Nothing remembers use across a restart: oldest records first, then over-budget ones go.
  m.order = [...expected.values()].sort((a, b) => a.createdAt - b.createdAt).map((rec) => rec.key);
  m.sizes = new Map([...expected.values()].map((rec) => [rec.key, encodeRecord(rec).length]));
  evict(m);
  expect(result.evicted).toBe(expected.size - m.values.size);
  expect(r.store.stats.entries).toBe(m.values.size);
  expect((await readdir(r.dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
}

class Put implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly text: string, readonly n: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    // createdAt from the model's clock: restarts order records by it, so ties must not happen.
    const rec = { ...recordFor(this.key, this.text, this.n), createdAt: ++m.clock };
    const size = encodeRecord(rec).length;
    const result = await r.store.put(rec);
    if (size > m.budget) {
      expect(result.ok ? undefined : result.error.code).toBe("EFBIG");
    } else if (m.diskFull) {
      expect(result.ok ? undefined : result.error.code).toBe("ENOSPC");
      m.diskFull = false;
    } else {
      expect(result.ok).toBe(true);
      m.values.set(this.key, rec);
      m.corrupted.delete(this.key);
      m.sizes.set(this.key, size);
      touch(m, this.key);
      const before = m.values.size;
      evict(m, this.key);
      expect(result.ok && (result.evicted ?? 0)).toBe(before - m.values.size);
    }
    expect(r.store.stats.entries).toBe(m.values.size);
    expect(r.store.stats.bytes).toBeLessThanOrEqual(m.budget);
  }
  toString = (): string => `put(${this.key[0]}, ${JSON.stringify(this.text)})`;
}

class Get implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const result = await r.store.get(this.key);
    const expected = m.values.get(this.key);
    if (expected === undefined) expect(result).toEqual({ hit: false, reason: "absent" });
    else if (m.corrupted.has(this.key)) {
      expect(result.hit).toBe(false);
      expect(CORRUPTION_REASONS).toContain(result.hit ? undefined : result.reason);
      forget(m, this.key);
    } else {
      expect(result).toEqual({ hit: true, record: expected });
      touch(m, this.key);
    }
    expect(r.store.stats.entries).toBe(m.values.size);
  }
  toString = (): string => `get(${this.key[0]})`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    expect(await r.store.delete(this.key)).toEqual({ ok: true });
    forget(m, this.key);
  }
  toString = (): string => `delete(${this.key[0]})`;
}

class Restart implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  run = (m: Model, r: Real): Promise<void> => restart(m, r);
  toString = (): string => "restart";
}

class DiskFull implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>): boolean => !m.diskFull;
  async run(m: Model, r: Real): Promise<void> {
    r.fs.inject({ op: "write", code: "ENOSPC" });
    m.diskFull = true;
  }
  toString = (): string => "disk-full";
}

/** The process dies during the write of a put: the old value must survive the restart. */
class CrashDuringPut implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly partial: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    r.fs.clearFaults();
    r.fs.crashOnNextWrite(this.partial);
    expect((await r.store.put(recordFor(this.key, "never stored", 0))).ok).toBe(false);
    await restart(m, r);
  }
  toString = (): string => `crash-during-put(${this.key[0]}, ${this.partial})`;
}

type Damage = "flip" | "flip-tail" | "mixed" | "truncate" | "zero" | "garbage" | "empty" | "append" | "other-key" | "other-model" | "version";

class Corrupt implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly how: Damage, readonly at: number, readonly mask: number) {}
  check = (m: Readonly<Model>): boolean => m.values.has(this.key) && !m.corrupted.has(this.key);
  async run(m: Model, r: Real): Promise<void> {
    const file = fileOf(r, this.key);
    const buf = await readFile(file);
    const rec = m.values.get(this.key) as CacheRecord;
    const damaged = ((): Buffer => {
      switch (this.how) {
        case "flip": {
          const copy = Buffer.from(buf);
          const i = this.at % copy.length;
          copy[i] = (copy[i] as number) ^ this.mask;
          return copy;
        }
        case "flip-tail": {
          // a small change near the end of the payload, where it most likely still parses as a record
          const copy = Buffer.from(buf);
          const i = copy.length - 1 - (this.at % Math.min(48, copy.length));
          copy[i] = (copy[i] as number) ^ (this.mask & 0x0f || 1);
          return copy;
        }
        case "mixed": {
          // this version's header with another version's payload of the same length (a torn rewrite):
          // only the checksum can tell. n ^ 1 never changes the number of digits.
          const value = { ...rec.value, completionTokens: rec.value.completionTokens ^ 1 };
          const other = encodeRecord({ ...rec, value });
          const header = buf.subarray(0, buf.indexOf(0x0a, 15) + 1);
          return Buffer.concat([header, other.subarray(other.indexOf(0x0a, 15) + 1)]);
        }
        case "truncate":
          return buf.subarray(0, this.at % buf.length);
        case "zero":
          return Buffer.alloc(buf.length);
        case "garbage":
          return Buffer.from(Array.from({ length: buf.length }, (_, i) => (i * 131 + this.at) & 0xff));
        case "empty":
          return Buffer.alloc(0);
        case "append":
          return Buffer.concat([buf, Buffer.from([this.mask])]);
        case "other-key":
          return encodeRecord({ ...rec, key: KEYS.find((k) => k !== this.key) as string });
        case "other-model":
          return encodeRecord({ ...rec, fingerprint: "0".repeat(64) });
        case "version":
          return Buffer.from(buf.toString("latin1").replace('"v":1', '"v":7'), "latin1");
      }
    })();
    await writeFile(file, damaged);
    m.corrupted.add(this.key);
  }
  toString = (): string => `corrupt(${this.key[0]}, ${this.how}, ${this.at}, ${this.mask})`;
}

const key = fc.constantFrom(...KEYS);
const put = fc
  .tuple(key, fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: "binary", maxLength: 24 })), fc.nat(1_000_000))
  .map(([k, t, n]) => new Put(k, t, n));
const corrupt = fc
  .tuple(
    key,
    fc.constantFrom<Damage>(
      ...(["flip", "flip-tail", "mixed", "truncate", "zero", "garbage", "empty", "append"] as const),
      ...(["other-key", "other-model", "version"] as const),
    ),
    fc.nat(10_000),
    fc.integer({ min: 1, max: 255 }),
  )
  .map(([k, how, at, mask]) => new Corrupt(k, how, at, mask));
// put and corrupt appear twice: a corruption needs a stored record to hit
const commands = [
  put,
  put,
  corrupt,
  corrupt,
  key.map((k) => new Get(k)),
  key.map((k) => new Delete(k)),
  fc.constant(new Restart()),
  fc.constant(new DiskFull()),
  fc.tuple(key, fc.nat(400)).map(([k, p]) => new CrashDuringPut(k, p)),
];

async function runModel(budget: number, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: "max" }), async (cmds) => {
      const dir = mkdtempSync(join(tmpdir(), "gauntlet-store-model-"));
      try {
        const setup = async (): Promise<{ model: Model; real: Real }> => ({
          model: { values: new Map(), corrupted: new Set(), diskFull: false, budget, order: [], sizes: new Map(), clock: 0 },
          real: { dir, ...(await newStore(dir, budget)) },
        });
        await fc.asyncModelRun(setup, cmds);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns },
  );
}

describe("DiskStore (model-based)", () => {
  test("never returns a value the model does not hold and loses only damaged records or failed writes", async () => {
    await runModel(Number.POSITIVE_INFINITY, 150);
  });

  test("under a disk budget of a few records it deletes exactly the least recently used ones, never the newest", async () => {
    // A record of this suite is 500-660 bytes: 1700 holds two or three of the four keys, so puts evict often.
    await runModel(1700, 100);
  });
});
