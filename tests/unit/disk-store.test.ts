import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { CacheIoError } from "../../src/cache/cache-io-error.js";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import type { CacheFs } from "../../src/cache/cache-fs.js";
import { DiskStore } from "../../src/cache/disk-store.js";
import type { DiskStoreOptions } from "../../src/cache/disk-store.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { encodeRecord } from "../../src/cache/record-codec.js";
import type { CacheRecord, CorruptionReason } from "../../src/cache/record-codec.js";

const FP = "e".repeat(64);
const key = (n: number): string => n.toString(16).padStart(64, "0");
const rec = (n: number, text = `answer ${n}`): CacheRecord => ({
  key: key(n),
  fingerprint: FP,
  createdAt: 1_700_000_000_000 + n,
  value: { text, finishReason: "stop", promptTokens: n, completionTokens: 2 * n },
});

let root: string;
let dir: string;
let corruptions: Array<[CorruptionReason, string]>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "gauntlet-disk-store-"));
  dir = join(root, "cache");
  corruptions = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function store(overrides: Partial<DiskStoreOptions> = {}): DiskStore {
  return new DiskStore({
    dir,
    fingerprint: FP,
    onCorruption: (reason, file) => corruptions.push([reason, file]),
    ...overrides,
  });
}

async function opened(overrides: Partial<DiskStoreOptions> = {}): Promise<DiskStore> {
  const s = store(overrides);
  expect((await s.open()).ok).toBe(true);
  return s;
}

const tempFiles = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith(".tmp"));
const recordPath = (n: number): string => join(dir, `${key(n)}.rec`);

describe("DiskStore", () => {
  test("open creates the directory and its quarantine and reports the store available", async () => {
    const s = store();
    expect(s.available).toBe(false);
    expect(await s.open()).toEqual({ ok: true, tempFilesRemoved: 0 });
    expect(s.available).toBe(true);
    expect((await stat(join(dir, "quarantine"))).isDirectory()).toBe(true);
    expect(s.stats).toMatchObject({ entries: 0, bytes: 0 });
  });

  test("a record put is read back, stored as <key>.rec with no temp file left", async () => {
    const s = await opened();
    expect(await s.put(rec(1))).toEqual({ ok: true });
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1) });
    expect(await readdir(dir)).toEqual(expect.arrayContaining([`${key(1)}.rec`, "quarantine"]));
    expect(await tempFiles()).toEqual([]);
    const size = (await stat(recordPath(1))).size;
    expect(s.stats).toMatchObject({ entries: 1, bytes: size });
  });

  test("a second put of the same key replaces the value and counts one entry", async () => {
    const s = await opened();
    await s.put(rec(1, "old"));
    await s.put(rec(1, "new and longer"));
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1, "new and longer") });
    expect(s.stats).toMatchObject({ entries: 1, bytes: (await stat(recordPath(1))).size });
  });

  test("a missing key is a miss with reason absent", async () => {
    const s = await opened();
    expect(await s.get(key(9))).toEqual({ hit: false, reason: "absent" });
  });

  test("a key that is not 64 hex characters is refused without touching the disk", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs });
    const before = fs.totalOps;
    expect(await s.get("../../etc/passwd")).toEqual({ hit: false, reason: "invalid-key" });
    const del = await s.delete("../x");
    expect(del.ok ? undefined : del.error.code).toBe("EINVAL");
    expect(fs.totalOps).toBe(before);
  });

  test("put refuses a record of another model and one above maxRecordBytes", async () => {
    const s = await opened({ maxRecordBytes: 600 });
    const other = await s.put({ ...rec(1), fingerprint: "0".repeat(64) });
    expect(other.ok ? undefined : other.error.code).toBe("EINVAL");
    const big = await s.put(rec(2, "x".repeat(1000)));
    expect(big.ok ? undefined : big.error.code).toBe("EFBIG");
    expect(s.stats.entries).toBe(0);
  });

  test("a new store on the same directory finds every record by scanning", async () => {
    const s = await opened();
    for (const n of [1, 2, 3]) await s.put(rec(n));
    const again = await opened();
    const seen: CacheRecord[] = [];
    const result = await again.scan((r) => void seen.push(r));
    expect(result).toMatchObject({ ok: true, valid: 3, ioErrors: 0 });
    expect(seen.sort((a, b) => a.createdAt - b.createdAt)).toEqual([rec(1), rec(2), rec(3)]);
    expect(again.stats.entries).toBe(3);
  });

  test("get re-validates: a record damaged on disk is quarantined and reported as a miss with its reason", async () => {
    const s = await opened();
    await s.put(rec(1));
    const buf = await readFile(recordPath(1));
    buf[buf.length - 3] = (buf[buf.length - 3] ?? 0) ^ 0xff;
    await writeFile(recordPath(1), buf);
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "checksum-mismatch" });
    expect(corruptions).toEqual([["checksum-mismatch", `${key(1)}.rec`]]);
    const quarantined = await readdir(join(dir, "quarantine"));
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatch(new RegExp(`${key(1)}\\.rec\\.checksum-mismatch$`));
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "absent" });
    expect(s.stats.entries).toBe(0);
  });

  test("scan yields only valid records and counts each bad one by reason", async () => {
    const s = await opened();
    for (const n of [1, 2, 3, 4, 5, 6]) await s.put(rec(n));
    const full = await readFile(recordPath(2));
    await writeFile(recordPath(2), full.subarray(0, 40));
    await writeFile(recordPath(3), Buffer.alloc(200));
    await writeFile(recordPath(4), encodeRecord({ ...rec(4), fingerprint: "0".repeat(64) }));
    await writeFile(recordPath(5), await readFile(recordPath(1)));
    await writeFile(join(dir, "README"), "not a record");
    const seen: string[] = [];
    const result = await (await opened()).scan((r) => void seen.push(r.key));
    expect(seen.sort()).toEqual([key(1), key(6)]);
    expect(result).toMatchObject({
      ok: true,
      valid: 2,
      ignored: 1,
      corrupt: { truncated: 1, "binary-garbage": 1, "wrong-fingerprint": 1, "key-mismatch": 1, "checksum-mismatch": 0 },
    });
    expect(new Set(corruptions.map(([, f]) => f))).toEqual(new Set([2, 3, 4, 5].map((n) => `${key(n)}.rec`)));
    expect(await readdir(join(dir, "quarantine"))).toHaveLength(4);
  });

  test("a file above maxRecordBytes on disk is quarantined as oversize", async () => {
    const s = await opened({ maxRecordBytes: 1000 });
    await writeFile(recordPath(1), Buffer.alloc(5000, 0x41));
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "oversize" });
  });

  test("the quarantine is bounded in bytes by deleting its oldest files", async () => {
    let clock = 1_000;
    const s = await opened({ quarantineMaxBytes: 1000, now: () => clock++ });
    for (let n = 1; n <= 8; n++) await writeFile(recordPath(n), Buffer.alloc(300, n));
    for (let n = 1; n <= 8; n++) expect((await s.get(key(n))).hit).toBe(false);
    const names = await readdir(join(dir, "quarantine"));
    let total = 0;
    for (const f of names) total += (await stat(join(dir, "quarantine", f))).size;
    expect(total).toBeLessThanOrEqual(1000);
    expect(names.map((f) => f.slice(f.indexOf(".") + 1)).sort()).toEqual(
      [6, 7, 8].map((n) => `${key(n)}.rec.binary-garbage`),
    );
    expect(s.stats).toMatchObject({ quarantineFiles: 3, quarantineBytes: 900 });
  });

  test("delete removes a record, deleting a missing one succeeds, clear removes all", async () => {
    const s = await opened();
    for (const n of [1, 2, 3]) await s.put(rec(n));
    expect(await s.delete(key(1))).toEqual({ ok: true });
    expect(await s.delete(key(1))).toEqual({ ok: true });
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "absent" });
    expect(await s.clear()).toEqual({ ok: true, removed: 2 });
    expect(await s.get(key(2))).toEqual({ hit: false, reason: "absent" });
    expect(s.stats).toMatchObject({ entries: 0, bytes: 0 });
  });

  test("ENOSPC while writing fails the put with a CacheIoError, keeps the old value and leaves no temp file", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs });
    await s.put(rec(1, "old"));
    fs.inject({ op: "write", code: "ENOSPC" });
    const result = await s.put(rec(1, "new"));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(CacheIoError);
    expect(result.error).toMatchObject({ code: "ENOSPC", op: "put" });
    expect(result.error.message).not.toContain(root);
    expect(await tempFiles()).toEqual([]);
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1, "old") });
    expect(s.lastError?.code).toBe("ENOSPC");
  });

  test("EIO on fsync fails the put and the record is not replaced", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs });
    fs.inject({ op: "sync", code: "EIO" });
    const result = await s.put(rec(1));
    expect(result.ok ? undefined : result.error.code).toBe("EIO");
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "absent" });
    expect(await tempFiles()).toEqual([]);
  });

  test("EIO while reading is a miss with the error and the record is kept for the next read", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs });
    await s.put(rec(1));
    fs.inject({ op: "read", code: "EIO" });
    const miss = await s.get(key(1));
    expect(miss).toMatchObject({ hit: false, reason: "io-error", error: { code: "EIO", op: "get" } });
    expect(corruptions).toEqual([]);
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1) });
  });

  test("an unreadable record file in a readable directory is an unusable miss, is not quarantined, and scan counts it", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs });
    await s.put(rec(1));
    await s.put(rec(2));
    fs.inject({ op: "open", code: "EACCES", times: 2, match: (p) => p.endsWith(`${key(1)}.rec`) });
    expect(await s.get(key(1))).toMatchObject({ hit: false, reason: "unusable", error: { code: "EACCES" } });
    const seen: string[] = [];
    expect(await s.scan((r) => void seen.push(r.key))).toMatchObject({ ok: true, valid: 1, ioErrors: 0, unusable: 1 });
    expect(seen).toEqual([key(2)]);
    expect(await readdir(join(dir, "quarantine"))).toEqual([]);
  });

  test("EACCES on a record when the directory itself cannot be read is a store-wide io-error", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs });
    await s.put(rec(1));
    fs.inject({ op: "open", code: "EACCES", times: 1000 });
    expect(await s.get(key(1))).toMatchObject({ hit: false, reason: "io-error", error: { code: "EACCES" } });
  });

  test("a directory where a record file should be is unusable, never a hit, and does not stop other records", async () => {
    const s = await opened();
    await s.put(rec(2));
    await mkdir(recordPath(1));
    expect(await s.get(key(1))).toMatchObject({ hit: false, reason: "unusable", error: { code: "EISDIR" } });
    const put = await s.put(rec(1));
    expect(put).toMatchObject({ ok: false, unusable: true, error: { code: "EISDIR" } });
    const result = await (await opened()).scan(() => undefined);
    expect(result).toMatchObject({ ok: true, valid: 1, ioErrors: 0, unusable: 1 });
    expect(await s.get(key(2))).toEqual({ hit: true, record: rec(2) });
  });

  test("an unusable record path is reported once however often it is read or written, and again once it was fixed and broke anew", async () => {
    const reported: string[] = [];
    const ioErrors: string[] = [];
    const s = await opened({ onUnusable: (e) => reported.push(`${e.op} ${e.code} ${e.file}`), onIoError: (e) => ioErrors.push(e.code) });
    await mkdir(recordPath(1));
    for (let i = 0; i < 5; i++) expect((await s.get(key(1))).hit).toBe(false);
    expect((await s.put(rec(1))).ok).toBe(false);
    expect(reported).toEqual([`get EISDIR ${key(1)}.rec`]);
    expect(ioErrors).toEqual([]);
    expect(s.stats.unusable).toBe(1);
    await rm(recordPath(1), { recursive: true });
    expect((await s.put(rec(1))).ok).toBe(true);
    expect(s.stats.unusable).toBe(0);
    await rm(recordPath(1));
    await mkdir(recordPath(1));
    expect((await s.get(key(1))).hit).toBe(false);
    expect(reported).toHaveLength(2);
  });

  test("a crash mid-write leaves a temp file that the next open removes, the old value intact", async () => {
    const crashing = new FaultInjectingFs(nodeCacheFs);
    const s = await opened({ fs: crashing });
    await s.put(rec(1, "old"));
    crashing.crashOnNextWrite(20);
    expect((await s.put(rec(1, "new"))).ok).toBe(false);
    expect(await tempFiles()).toHaveLength(1);
    const again = store();
    expect(await again.open()).toEqual({ ok: true, tempFilesRemoved: 1 });
    expect(await tempFiles()).toEqual([]);
    expect(await again.scan(() => undefined)).toMatchObject({ valid: 1 });
    expect(await again.get(key(1))).toEqual({ hit: true, record: rec(1, "old") });
  });

  test("a file where the directory should be makes the store unavailable instead of throwing", async () => {
    await writeFile(dir, "I am a file");
    const s = store();
    const result = await s.open();
    expect(result.ok).toBe(false);
    expect(s.available).toBe(false);
    if (!result.ok) expect(["EEXIST", "ENOTDIR"]).toContain(result.error.code);
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "unavailable" });
    const put = await s.put(rec(1));
    expect(put.ok ? undefined : put.error.code).toBe("EUNAVAILABLE");
    expect(await s.scan(() => undefined)).toMatchObject({ ok: false, error: { code: "EUNAVAILABLE" } });
  });

  test("an unreadable directory makes the store unavailable", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    fs.inject({ op: "readdir", code: "EACCES" });
    const result = await store({ fs }).open();
    expect(result.ok ? undefined : result.error).toMatchObject({ code: "EACCES", op: "open" });
  });

  test("a read-only directory makes the store unavailable", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    await mkdir(dir, { recursive: true });
    await mkdir(join(dir, "quarantine"));
    fs.inject({ op: "open", code: "EROFS" });
    const s = store({ fs });
    const result = await s.open();
    expect(result.ok ? undefined : result.error.code).toBe("EROFS");
    expect(s.available).toBe(false);
  });

  test("a file system that throws non-errors still yields typed results", async () => {
    const weird: CacheFs = {
      ...nodeCacheFs,
      open: () => Promise.reject("boom"),
      readdir: (p) => nodeCacheFs.readdir(p),
    };
    const s = store({ fs: weird });
    const result = await s.open();
    expect(result.ok ? undefined : result.error).toMatchObject({ code: "EUNKNOWN" });
  });

  test("a throwing onCorruption listener does not break the store", async () => {
    const s = await opened({
      onCorruption: () => {
        throw new Error("listener bug");
      },
    });
    await writeFile(recordPath(1), "garbage");
    expect(await s.get(key(1))).toEqual({ hit: false, reason: "binary-garbage" });
  });

  test("a read that quarantines a bad file never moves away a record a concurrent put writes", async () => {
    // Hold the quarantine move until the put's rename has happened (or, when the store serialises the two
    // as it must, until a short fallback timer fires) so the race is forced, not left to chance.
    let putRenamed: () => void = () => undefined;
    const renamed = new Promise<void>((resolve) => {
      putRenamed = resolve;
    });
    const gated: CacheFs = {
      ...nodeCacheFs,
      rename: async (from, to) => {
        if (to.includes("quarantine")) {
          await Promise.race([renamed, new Promise((r) => setTimeout(r, 50))]);
          return nodeCacheFs.rename(from, to);
        }
        await nodeCacheFs.rename(from, to);
        if (to.endsWith(".rec")) putRenamed();
      },
    };
    const s = await opened({ fs: gated });
    await writeFile(recordPath(1), "garbage");
    const [got, put] = await Promise.all([s.get(key(1)), s.put(rec(1, "fresh"))]);
    expect(got).toEqual({ hit: false, reason: "binary-garbage" });
    expect(put).toEqual({ ok: true });
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1, "fresh") });
  });

  test("concurrent puts of different keys all land", async () => {
    const s = await opened();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => s.put(rec(n))));
    expect(results.every((r) => r.ok)).toBe(true);
    for (const n of [1, 2, 3, 4, 5]) expect(await s.get(key(n))).toEqual({ hit: true, record: rec(n) });
    expect(s.stats.entries).toBe(5);
  });

  test("onIoError hears every reported failure, by base name only", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const errors: CacheIoError[] = [];
    const s = await opened({ fs, onIoError: (e) => errors.push(e) });
    fs.inject({ op: "rename", code: "EIO" });
    await s.put(rec(1));
    expect(errors.map((e) => [e.op, e.code, e.file])).toEqual([["put", "EIO", `${key(1)}.rec`]]);
    expect(errors[0]?.message).toBe(`cache put failed: EIO (${key(1)}.rec)`);
  });
});

describe("DiskStore disk budget", () => {
  const sizeOf = (n: number): number => encodeRecord(rec(n)).length;

  test("puts past the budget delete the least recently used records, never the newest, and stay under the budget", async () => {
    const budget = sizeOf(1) * 3 + 10;
    const s = await opened({ maxTotalBytes: budget });
    for (const n of [1, 2, 3]) expect(await s.put(rec(n))).toMatchObject({ ok: true });
    // Reading 1 makes 2 the least recently used.
    expect((await s.get(key(1))).hit).toBe(true);
    expect(await s.put(rec(4))).toEqual({ ok: true, evicted: 1 });
    expect((await s.get(key(2))).hit).toBe(false);
    for (const n of [1, 3, 4]) expect(await s.get(key(n))).toEqual({ hit: true, record: rec(n) });
    expect(s.stats).toMatchObject({ entries: 3, evictions: 1, maxBytes: budget });
    expect(s.stats.bytes).toBeLessThanOrEqual(budget);
    const onDisk = (await readdir(dir)).filter((f) => f.endsWith(".rec")).sort();
    expect(onDisk).toEqual([1, 3, 4].map((n) => `${key(n)}.rec`));
  });

  test("concurrent puts never take the disk past the budget by more than the one record being written", async () => {
    const budget = sizeOf(1) * 3 + 10;
    let peak = 0;
    let onDiskBytes = 0;
    const sizes = new Map<string, number>();
    // Watches every rename into place and every delete: the bytes of the record files at each moment.
    const watching: CacheFs = {
      ...nodeCacheFs,
      rename: async (from, to) => {
        await nodeCacheFs.rename(from, to);
        const size = (await stat(to)).size;
        onDiskBytes += size - (sizes.get(to) ?? 0);
        sizes.set(to, size);
        peak = Math.max(peak, onDiskBytes);
      },
      unlink: async (path) => {
        await nodeCacheFs.unlink(path);
        onDiskBytes -= sizes.get(path) ?? 0;
        sizes.delete(path);
      },
    };
    const s = await opened({ maxTotalBytes: budget, fs: watching });
    for (let round = 0; round < 5; round++) {
      await Promise.all([10, 11, 12, 13].map((n) => s.put(rec(n + 10 * round))));
      expect(s.stats.bytes).toBeLessThanOrEqual(budget);
    }
    // One put at a time, evicting after its write: at most one record over, never one per concurrent put.
    expect(peak).toBeLessThanOrEqual(budget + sizeOf(99));
    expect(peak).toBeGreaterThan(sizeOf(1) * 2);
  });

  test("touch marks a record used without reading it (a memory hit keeps its disk copy)", async () => {
    const s = await opened({ maxTotalBytes: sizeOf(1) * 2 + 10 });
    await s.put(rec(1));
    await s.put(rec(2));
    s.touch(key(1));
    await s.put(rec(3));
    expect((await s.get(key(1))).hit).toBe(true);
    expect((await s.get(key(2))).hit).toBe(false);
  });

  test("a record bigger than the whole budget is refused and nothing is evicted for it", async () => {
    const s = await opened({ maxTotalBytes: sizeOf(1) + 10 });
    await s.put(rec(1));
    const big = await s.put(rec(2, "x".repeat(500)));
    expect(big.ok ? undefined : big.error.code).toBe("EFBIG");
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1) });
  });

  test("at start-up a directory over the budget keeps its newest records and deletes the oldest", async () => {
    const big = await opened();
    for (const n of [5, 1, 4, 2, 3]) await big.put(rec(n));
    const budget = sizeOf(1) * 2 + 10;
    const s = await opened({ maxTotalBytes: budget });
    const seen: string[] = [];
    const result = await s.scan((r) => void seen.push(r.key));
    expect(result).toMatchObject({ ok: true, valid: 5, evicted: 3 });
    // createdAt grows with n: 4 and 5 are the newest.
    const onDisk = (await readdir(dir)).filter((f) => f.endsWith(".rec")).sort();
    expect(onDisk).toEqual([4, 5].map((n) => `${key(n)}.rec`));
    expect(s.stats).toMatchObject({ entries: 2, evictions: 3 });
    expect(s.stats.bytes).toBeLessThanOrEqual(budget);
  });

  test("an eviction never deletes a record put again while it waited for the record's lock", async () => {
    const s = await opened({ maxTotalBytes: sizeOf(1) * 2 + 10 });
    await s.put(rec(1));
    await s.put(rec(2));
    // 3 evicts 1 while 1 is being rewritten: the fresh 1 must survive.
    const [a, b] = await Promise.all([s.put(rec(3)), s.put(rec(1, "answer 1"))]);
    expect(a.ok && b.ok).toBe(true);
    expect(await s.get(key(1))).toEqual({ hit: true, record: rec(1) });
    expect(s.stats.bytes).toBeLessThanOrEqual(sizeOf(1) * 2 + 10);
  });
});
