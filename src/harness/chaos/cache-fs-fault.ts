/**
 * The cache file-system fault switch, TEST-ONLY and off by default: `gauntlet serve` reads
 * GAUNTLET_DEBUG_CACHE_FS_FAULT (src/server/main.ts) and wraps the real cache file system in a
 * FaultInjectingFs, so `gauntlet chaos` can fill the disk or fail one operation of a real server.
 *
 *   enospc-after:N   the first N record writes succeed, every later one fails with ENOSPC (a full disk)
 *   eio-at:N         the Nth cache file operation since start-up (any kind, 1-based) fails with EIO, once
 *   slow-sync:MS     every fsync of a new record's temp file waits MS ms first: a kill -9 under load then
 *                    lands inside writes (the record written, not yet synced nor renamed)
 */
import type { CacheFileHandle, CacheFs } from "../../cache/cache-fs.js";
import { FaultInjectingFs } from "../../cache/fault-injecting-fs.js";

export type CacheFsFault = { kind: "enospc-after"; writes: number } | { kind: "eio-at"; op: number } | { kind: "slow-sync"; ms: number };

export const CACHE_FS_FAULT_VARIABLE = "GAUNTLET_DEBUG_CACHE_FS_FAULT";

export type CacheFsFaultResult = { ok: true; fault: CacheFsFault | null } | { ok: false; error: string };

export function parseCacheFsFaultEnv(env: Readonly<Record<string, string | undefined>>): CacheFsFaultResult {
  const raw = env[CACHE_FS_FAULT_VARIABLE]?.trim() ?? "";
  if (raw === "") return { ok: true, fault: null };
  const m = /^(enospc-after|eio-at|slow-sync):(\d{1,9})$/.exec(raw);
  const n = m ? Number(m[2]) : NaN;
  if (m?.[1] === "enospc-after") return { ok: true, fault: { kind: "enospc-after", writes: n } };
  if (m?.[1] === "eio-at" && n >= 1) return { ok: true, fault: { kind: "eio-at", op: n } };
  if (m?.[1] === "slow-sync" && n <= 60_000) return { ok: true, fault: { kind: "slow-sync", ms: n } };
  return {
    ok: false,
    error: `${CACHE_FS_FAULT_VARIABLE} (test only) must be enospc-after:<writes>, eio-at:<operation number, from 1> or slow-sync:<ms>, got ${JSON.stringify(raw.slice(0, 40))}`,
  };
}

/** Delays the fsync of files opened to be created ("wx": new records' temp files). */
function slowSyncFs(inner: CacheFs, ms: number): CacheFs {
  return {
    mkdir: (p, o) => inner.mkdir(p, o),
    readdir: (p) => inner.readdir(p),
    rename: (a, b) => inner.rename(a, b),
    unlink: (p) => inner.unlink(p),
    stat: (p) => inner.stat(p),
    async open(path, flags, mode): Promise<CacheFileHandle> {
      const h = await inner.open(path, flags, mode);
      if (flags !== "wx") return h;
      return {
        writeFile: (d) => h.writeFile(d),
        readFile: () => h.readFile(),
        stat: () => h.stat(),
        close: () => h.close(),
        sync: async () => {
          await new Promise((r) => setTimeout(r, ms));
          return h.sync();
        },
      };
    },
  };
}

/** `inner` with the fault armed. */
export function cacheFsWithFault(inner: CacheFs, fault: CacheFsFault): CacheFs {
  if (fault.kind === "slow-sync") return slowSyncFs(inner, fault.ms);
  const fs = new FaultInjectingFs(inner);
  if (fault.kind === "enospc-after") fs.inject({ op: "write", code: "ENOSPC", after: fault.writes + 1, times: Number.MAX_SAFE_INTEGER });
  else fs.inject({ op: "any", code: "EIO", after: fault.op, times: 1 });
  return fs;
}

export function describeCacheFsFault(fault: CacheFsFault): string {
  if (fault.kind === "enospc-after") return `every response-cache write after the first ${fault.writes} fails with ENOSPC`;
  if (fault.kind === "eio-at") return `response-cache file operation number ${fault.op} fails with EIO`;
  return `every fsync of a new response-cache record waits ${fault.ms} ms`;
}
