import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import { DiskStore } from "../../src/cache/disk-store.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { cacheFsWithFault, parseCacheFsFaultEnv } from "../../src/harness/chaos/cache-fs-fault.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "gauntlet-chaos-fsf-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const record = (i: number) => ({
  key: i.toString(16).padStart(64, "0"),
  fingerprint: "fp",
  createdAt: 1,
  value: { text: `answer ${i}`, finishReason: "stop" as const, promptTokens: 1, completionTokens: 2 },
});

describe("GAUNTLET_DEBUG_CACHE_FS_FAULT", () => {
  test("parses enospc-after:N and eio-at:N; off when unset; a usage error otherwise", () => {
    expect(parseCacheFsFaultEnv({})).toEqual({ ok: true, fault: null });
    expect(parseCacheFsFaultEnv({ GAUNTLET_DEBUG_CACHE_FS_FAULT: "enospc-after:3" })).toEqual({ ok: true, fault: { kind: "enospc-after", writes: 3 } });
    expect(parseCacheFsFaultEnv({ GAUNTLET_DEBUG_CACHE_FS_FAULT: "eio-at:12" })).toEqual({ ok: true, fault: { kind: "eio-at", op: 12 } });
    expect(parseCacheFsFaultEnv({ GAUNTLET_DEBUG_CACHE_FS_FAULT: "slow-sync:25" })).toEqual({ ok: true, fault: { kind: "slow-sync", ms: 25 } });
    for (const bad of ["eio-at:0", "eio-at", "enospc-after:-1", "full", "eio-at:1x"]) {
      const r = parseCacheFsFaultEnv({ GAUNTLET_DEBUG_CACHE_FS_FAULT: bad });
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/GAUNTLET_DEBUG_CACHE_FS_FAULT.*enospc-after.*eio-at.*slow-sync/);
    }
  });

  test("enospc-after:2 lets two records be written, then every write fails with ENOSPC", async () => {
    const fs = cacheFsWithFault(nodeCacheFs, { kind: "enospc-after", writes: 2 });
    const store = new DiskStore({ dir: tempDir(), fingerprint: "fp", fs });
    expect((await store.open()).ok).toBe(true);
    const results = [];
    for (let i = 1; i <= 4; i++) results.push(await store.put(record(i)));
    expect(results.map((r) => (r.ok ? "ok" : r.error.code))).toEqual(["ok", "ok", "ENOSPC", "ENOSPC"]);
  });

  test("eio-at:N fails exactly the Nth file operation, once", async () => {
    const fs = cacheFsWithFault(nodeCacheFs, { kind: "eio-at", op: 1 });
    expect(fs).toBeInstanceOf(FaultInjectingFs);
    const store = new DiskStore({ dir: tempDir(), fingerprint: "fp", fs });
    const first = await store.open();
    expect(first.ok ? "ok" : first.error.code).toBe("EIO");
    expect((await store.open()).ok).toBe(true);
    expect((await store.put(record(1))).ok).toBe(true);
  });

  test("slow-sync:MS holds every fsync of a new record's temp file (a kill then lands inside the write), and changes nothing else", async () => {
    const calls: string[] = [];
    const spy = {
      ...nodeCacheFs,
      open: async (path: string, flags: string, mode?: number) => {
        const h = await nodeCacheFs.open(path, flags, mode);
        return { ...h, sync: async () => { calls.push(`sync ${flags}`); return h.sync(); }, writeFile: (d: Uint8Array) => h.writeFile(d), readFile: () => h.readFile(), stat: () => h.stat(), close: () => h.close() };
      },
    };
    const fs = cacheFsWithFault(spy, { kind: "slow-sync", ms: 1 });
    const store = new DiskStore({ dir: tempDir(), fingerprint: "fp", fs });
    expect((await store.open()).ok).toBe(true);
    expect((await store.put(record(1))).ok).toBe(true);
    expect((await store.get(record(1).key)).hit).toBe(true);
    expect(calls).toContain("sync wx");
  });
});

