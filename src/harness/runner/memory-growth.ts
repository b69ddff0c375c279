/**
 * Memory growth of the server during a scenario, after its warm-up: a Theil-Sen slope (median of
 * pairwise slopes, robust to GC spikes) projected over the sampled span, relative to the fitted
 * start. A first/last ratio would turn one spike into a leak.
 */
export interface MemoryPoint {
  tMs: number;
  bytes: number;
}

export interface MemoryGrowth {
  /** null with fewer than MIN_SAMPLES samples. */
  growthPct: number | null;
  startBytes: number | null;
  peakBytes: number | null;
  slopeBytesPerSec: number | null;
  samples: number;
}

export const MIN_SAMPLES = 3;
/** Pairwise slopes are O(n^2): thin longer series evenly to this many points. */
const MAX_POINTS = 300;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function memoryGrowth(samples: readonly MemoryPoint[]): MemoryGrowth {
  const peakBytes = samples.length > 0 ? Math.max(...samples.map((s) => s.bytes)) : null;
  if (samples.length < MIN_SAMPLES) return { growthPct: null, startBytes: samples[0]?.bytes ?? null, peakBytes, slopeBytesPerSec: null, samples: samples.length };
  const step = Math.max(1, Math.ceil(samples.length / MAX_POINTS));
  const pts = samples.filter((_, i) => i % step === 0);
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dx = pts[j]!.tMs - pts[i]!.tMs;
      if (dx > 0) slopes.push((pts[j]!.bytes - pts[i]!.bytes) / dx);
    }
  }
  if (slopes.length === 0) return { growthPct: null, startBytes: samples[0]!.bytes, peakBytes, slopeBytesPerSec: null, samples: samples.length };
  const slope = median(slopes);
  const t0 = samples[0]!.tMs;
  const span = samples[samples.length - 1]!.tMs - t0;
  const startBytes = median(pts.map((p) => p.bytes - slope * (p.tMs - t0)));
  return {
    growthPct: startBytes > 0 ? ((slope * span) / startBytes) * 100 : null,
    startBytes,
    peakBytes,
    slopeBytesPerSec: slope * 1000,
    samples: samples.length,
  };
}
