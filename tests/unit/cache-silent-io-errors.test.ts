/**
 * I/O errors the store can live with (a failed directory fsync after a rename, a failed close after a read)
 * are still errors of the disk: each is reported (and so counted and logged), never swallowed. The chaos
 * EIO sweep found 14 of 52 injected EIOs that left no trace.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import type { CacheIoError } from "../../src/cache/cache-io-error.js";
import { DiskStore } from "../../src/cache/disk-store.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";

const FP = "e".repeat(64);
const KEY = "a".repeat(64);
const record = { key: KEY, fingerprint: FP, createdAt: 1_700_000_000_000, value: { text: "hi", finishReason: "stop" as const, promptTokens: 1, completionTokens: 1 } };

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "gauntlet-silent-io-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function storeWith(fs: FaultInjectingFs, errors: CacheIoError[]): Promise<DiskStore> {
  const store = new DiskStore({ dir: join(root, "cache"), fingerprint: FP, fs, onIoError: (e) => errors.push(e) });
  expect((await store.open()).ok).toBe(true);
  return store;
}

describe("errors the store survives are still reported", () => {
  test("EIO on the directory fsync after a put: the put stands, the error is reported", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const errors: CacheIoError[] = [];
    const store = await storeWith(fs, errors);
    fs.inject({ op: "sync", code: "EIO", match: (p) => p.endsWith("cache") });
    expect((await store.put(record)).ok).toBe(true);
    expect(errors.map((e) => [e.op, e.code])).toEqual([["put", "EIO"]]);
    expect((await store.get(KEY)).hit).toBe(true);
  });

  test("EIO on the close after a read: the hit stands, the error is reported", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const errors: CacheIoError[] = [];
    const store = await storeWith(fs, errors);
    expect((await store.put(record)).ok).toBe(true);
    errors.length = 0;
    fs.inject({ op: "close", code: "EIO", match: (p) => p.endsWith(".rec") });
    expect((await store.get(KEY)).hit).toBe(true);
    expect(errors.map((e) => [e.op, e.code])).toEqual([["get", "EIO"]]);
  });

  test("a file system that cannot fsync directories (EINVAL) is not an error", async () => {
    const fs = new FaultInjectingFs(nodeCacheFs);
    const errors: CacheIoError[] = [];
    const store = await storeWith(fs, errors);
    fs.inject({ op: "sync", code: "EINVAL", match: (p) => p.endsWith("cache"), times: 10 });
    expect((await store.put(record)).ok).toBe(true);
    expect(errors).toEqual([]);
  });
});
