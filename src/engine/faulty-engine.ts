/**
 * The debug fault switch: an Engine decorator that makes a fixed fraction of generate() calls throw,
 * for the harness's intermittent-faults scenario. Test-only and off by default; src/server/main.ts
 * turns it on when GAUNTLET_DEBUG_FAULT_RATE is set.
 *
 * The failing calls are chosen per block of B calls (B the smallest of 10, 20, 50, 100, ... 10,000
 * for which rate * B is a whole number): exactly round(rate * B) calls of each block fail, at
 * positions drawn from a PRNG seeded with (seed, block). So the fraction is exact over every whole
 * block, the same seed fails the same calls, and concurrency cannot change which call numbers fail.
 */
import { bindAll } from "./retrying-engine.js";
import { deriveSeed, mulberry32 } from "./gguf/prng.js";
import type { Engine, GenerateChunk, GenerateRequest, GenerateResult } from "./types.js";

export interface FaultSettings {
  /** Fraction of generate() calls that fail, 0..1. */
  rate: number;
  /** PRNG seed choosing which calls fail. */
  seed: number;
}

export interface FaultStats {
  calls: number;
  faults: number;
}

export type FaultyEngine = Engine & { faultStats(): FaultStats };

export class InjectedFaultError extends Error {
  override readonly name = "InjectedFaultError";
}

const BLOCK_SIZES = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

function blockSize(rate: number): number {
  for (const b of BLOCK_SIZES) if (Math.abs(rate * b - Math.round(rate * b)) < 1e-9) return b;
  return 10_000;
}

/** Whether call number `i` (0-based, in call order) fails. Pure: same settings, same answer. */
export function faultPlan(settings: FaultSettings): (i: number) => boolean {
  if (!(settings.rate >= 0 && settings.rate <= 1)) throw new RangeError(`fault rate must be in 0..1, got ${settings.rate}`);
  const size = blockSize(settings.rate);
  const perBlock = Math.round(settings.rate * size);
  let cachedBlock = -1;
  let failing = new Set<number>();
  return (i) => {
    if (perBlock === 0) return false;
    if (perBlock === size) return true;
    const block = Math.floor(i / size);
    if (block !== cachedBlock) {
      // Partial Fisher-Yates: the first perBlock entries of a seeded shuffle of 0..size-1.
      const random = mulberry32(deriveSeed(settings.seed, block));
      const positions = Array.from({ length: size }, (_, k) => k);
      for (let k = 0; k < perBlock; k++) {
        const j = k + Math.floor(random() * (size - k));
        [positions[k], positions[j]] = [positions[j]!, positions[k]!];
      }
      failing = new Set(positions.slice(0, perBlock));
      cachedBlock = block;
    }
    return failing.has(i % size);
  };
}

/** Wraps an engine so that the planned fraction of generate() calls throws InjectedFaultError. */
export function withFaults(engine: Engine, settings: FaultSettings): FaultyEngine {
  const fails = faultPlan(settings);
  const stats: FaultStats = { calls: 0, faults: 0 };
  const wrapped: FaultyEngine = {
    // Every optional capability (warm, prompt state, stats, routing) passes through; only generate is faulty.
    ...bindAll(engine),
    info: () => engine.info(),
    countPromptTokens: (messages) => engine.countPromptTokens(messages),
    async generate(req: GenerateRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<GenerateResult> {
      const call = stats.calls++;
      if (fails(call)) {
        stats.faults++;
        throw new InjectedFaultError(`injected fault on generate call ${call + 1} (debug fault switch)`);
      }
      return engine.generate(req, onChunk);
    },
    close: () => engine.close(),
    faultStats: () => ({ ...stats }),
  };
  return wrapped;
}

export type FaultSettingsResult = { ok: true; settings: FaultSettings | null } | { ok: false; error: string };

/**
 * Reads GAUNTLET_DEBUG_FAULT_RATE (0..1; unset, empty or 0 = off) and GAUNTLET_DEBUG_FAULT_SEED
 * (a non-negative integer, default 1) from the given variables. The caller passes the environment.
 */
export function parseFaultSettings(env: Readonly<Record<string, string | undefined>>): FaultSettingsResult {
  const rawRate = env.GAUNTLET_DEBUG_FAULT_RATE?.trim() ?? "";
  if (rawRate === "") return { ok: true, settings: null };
  const rate = Number(rawRate);
  if (!/^[0-9.eE+-]+$/.test(rawRate) || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    return { ok: false, error: `GAUNTLET_DEBUG_FAULT_RATE must be a number from 0 to 1 (e.g. 0.05 fails 5% of generations), got ${JSON.stringify(rawRate)}` };
  }
  const rawSeed = env.GAUNTLET_DEBUG_FAULT_SEED?.trim() ?? "";
  const seed = rawSeed === "" ? 1 : Number(rawSeed);
  if (!/^\d+$/.test(rawSeed === "" ? "1" : rawSeed) || !Number.isSafeInteger(seed)) {
    return { ok: false, error: `GAUNTLET_DEBUG_FAULT_SEED must be an integer >= 0, got ${JSON.stringify(rawSeed)}` };
  }
  return { ok: true, settings: rate === 0 ? null : { rate, seed } };
}
