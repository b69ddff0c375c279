/**
 * Seeded synthetic series for calibrating and testing the soak verdicts
 * (false-alarm rate, power). Deterministic: the same seed gives the same series.
 */

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller) from a uniform source. */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface SyntheticMemoryOptions {
  seed: number;
  durationMs: number;
  intervalMs: number;
  baselineBytes: number;
  /** Steady growth over the whole duration, as a percentage of the baseline. */
  leakPctOverRun?: number;
  /** Standard deviation of white noise, in bytes. */
  noiseBytes?: number;
  /** GC-like sawtooth: rises linearly by `amplitudeBytes` over each period, then drops. */
  sawtooth?: { amplitudeBytes: number; periodMs: number };
  /** Warm-up transient: starts `riseBytes` below the baseline, approaching it as exp(-t/tauMs). */
  warmup?: { riseBytes: number; tauMs: number };
  /** A one-off step up by `bytes` at `atMs`. */
  step?: { atMs: number; bytes: number };
  /** A bounded cache: grows linearly from 0 to `fillBytes` until `fullAtMs`, then stays full (evicting). */
  cache?: { fillBytes: number; fullAtMs: number };
  startMs?: number;
}

export function syntheticMemorySeries(o: SyntheticMemoryOptions): { tMs: number; bytes: number }[] {
  const rand = mulberry32(o.seed);
  const start = o.startMs ?? 0;
  const out: { tMs: number; bytes: number }[] = [];
  const phase = rand() * (o.sawtooth?.periodMs ?? 1);
  for (let t = 0; t <= o.durationMs; t += o.intervalMs) {
    let y = o.baselineBytes;
    y += ((o.leakPctOverRun ?? 0) / 100) * o.baselineBytes * (t / o.durationMs);
    if (o.noiseBytes) y += o.noiseBytes * gaussian(rand);
    if (o.sawtooth) y += o.sawtooth.amplitudeBytes * (((t + phase) % o.sawtooth.periodMs) / o.sawtooth.periodMs);
    if (o.warmup) y -= o.warmup.riseBytes * Math.exp(-t / o.warmup.tauMs);
    if (o.step && t >= o.step.atMs) y += o.step.bytes;
    if (o.cache) y += o.cache.fillBytes * Math.min(1, t / o.cache.fullAtMs);
    out.push({ tMs: start + t, bytes: y });
  }
  return out;
}
