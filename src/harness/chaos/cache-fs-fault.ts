/**
 * The cache file-system fault switch, TEST-ONLY and off by default: `gauntlet serve` reads
 * GAUNTLET_DEBUG_CACHE_FS_FAULT (src/server/main.ts) and wraps the real cache file system in a
 * FaultInjectingFs, so `gauntlet chaos` can fill the disk or fail one operation of a real server.
 *
 *   enospc-after:N   the first N record writes succeed, every later one fails with ENOSPC (a full disk)
 *   eio-at:N         the Nth cache file operation since start-up (any kind, 1-based) fails with EIO, once
 */
import type { CacheFs } from "../../cache/cache-fs.js";
import { FaultInjectingFs } from "../../cache/fault-injecting-fs.js";

export type CacheFsFault = { kind: "enospc-after"; writes: number } | { kind: "eio-at"; op: number };

export const CACHE_FS_FAULT_VARIABLE = "GAUNTLET_DEBUG_CACHE_FS_FAULT";

export type CacheFsFaultResult = { ok: true; fault: CacheFsFault | null } | { ok: false; error: string };

export function parseCacheFsFaultEnv(env: Readonly<Record<string, string | undefined>>): CacheFsFaultResult {
  const raw = env[CACHE_FS_FAULT_VARIABLE]?.trim() ?? "";
  if (raw === "") return { ok: true, fault: null };
  const m = /^(enospc-after|eio-at):(\d{1,9})$/.exec(raw);
  const n = m ? Number(m[2]) : NaN;
  if (m?.[1] === "enospc-after") return { ok: true, fault: { kind: "enospc-after", writes: n } };
  if (m?.[1] === "eio-at" && n >= 1) return { ok: true, fault: { kind: "eio-at", op: n } };
  return {
    ok: false,
    error: `${CACHE_FS_FAULT_VARIABLE} (test only) must be enospc-after:<writes> or eio-at:<operation number, from 1>, got ${JSON.stringify(raw.slice(0, 40))}`,
  };
}

/** `inner` with the fault armed. */
export function cacheFsWithFault(inner: CacheFs, fault: CacheFsFault): FaultInjectingFs {
  const fs = new FaultInjectingFs(inner);
  if (fault.kind === "enospc-after") fs.inject({ op: "write", code: "ENOSPC", after: fault.writes + 1, times: Number.MAX_SAFE_INTEGER });
  else fs.inject({ op: "any", code: "EIO", after: fault.op, times: 1 });
  return fs;
}

export function describeCacheFsFault(fault: CacheFsFault): string {
  return fault.kind === "enospc-after"
    ? `every response-cache write after the first ${fault.writes} fails with ENOSPC`
    : `response-cache file operation number ${fault.op} fails with EIO`;
}
