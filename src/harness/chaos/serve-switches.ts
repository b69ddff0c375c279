/**
 * The TEST-ONLY chaos switches of `gauntlet serve`, read from the environment main.ts passes in
 * (never from process.env here). Both are off unless set:
 *   GAUNTLET_DEBUG_ENGINE_FAULT     src/engine/chaos-engine.ts (throw, hang, stuck, slow, tagged)
 *   GAUNTLET_DEBUG_CACHE_FS_FAULT   ./cache-fs-fault.ts (enospc-after:N, eio-at:N)
 */
import type { CacheFs } from "../../cache/cache-fs.js";
import { nodeCacheFs } from "../../cache/cache-fs.js";
import { ENGINE_FAULT_VARIABLE, parseEngineFaultEnv, withChaos } from "../../engine/chaos-engine.js";
import type { Engine } from "../../engine/types.js";
import { CACHE_FS_FAULT_VARIABLE, cacheFsWithFault, describeCacheFsFault, parseCacheFsFaultEnv } from "./cache-fs-fault.js";

export type ChaosSwitches =
  | { ok: false; error: string }
  | {
      ok: true;
      /** Wraps the loaded engine, or null when the engine switch is off. */
      wrapEngine: ((engine: Engine) => Engine) | null;
      /** The response cache's file system, or null when the file-system switch is off. */
      cacheFs: CacheFs | null;
      /** One line per switch that is on, for stderr. */
      warnings: string[];
    };

export function readChaosSwitches(env: Readonly<Record<string, string | undefined>>, innerFs: CacheFs = nodeCacheFs): ChaosSwitches {
  const engine = parseEngineFaultEnv(env);
  if (!engine.ok) return { ok: false, error: engine.error };
  const fs = parseCacheFsFaultEnv(env);
  if (!fs.ok) return { ok: false, error: fs.error };
  const warnings: string[] = [];
  const setting = engine.setting;
  if (setting) {
    warnings.push(
      `${ENGINE_FAULT_VARIABLE}=${env[ENGINE_FAULT_VARIABLE]?.trim()}: the engine fails, hangs or crawls on purpose${setting.mode === "tagged" ? " for requests tagged [chaos:...]" : ""} (test only)`,
    );
  }
  if (fs.fault) warnings.push(`${CACHE_FS_FAULT_VARIABLE}=${env[CACHE_FS_FAULT_VARIABLE]?.trim()}: ${describeCacheFsFault(fs.fault)} (test only)`);
  return {
    ok: true,
    wrapEngine: setting ? (e) => withChaos(e, setting) : null,
    cacheFs: fs.fault ? cacheFsWithFault(innerFs, fs.fault) : null,
    warnings,
  };
}
