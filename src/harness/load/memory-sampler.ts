/** Samples a MemorySource at a fixed interval during a run (bounded count, no overlapping reads). */
import type { MemorySample } from "../report/types.js";
import type { Clock } from "./clock.js";
import type { MemorySource } from "./memory-source.js";

export const MAX_MEMORY_SAMPLES = 100_000;

export interface MemorySampler {
  /** Reads once now (awaited), then every intervalMs until stop(). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Takes one reading now (waits for a reading already in flight first), e.g. at phase boundaries. */
  sampleNow(): Promise<void>;
  /** Samples with tMs on the run's clock relative to `origin`. */
  samples(): MemorySample[];
  /** Samples taken between two clock times (inclusive). */
  between(fromMs: number, toMs: number): MemorySample[];
}

export function createMemorySampler(source: MemorySource, opts: { intervalMs: number; clock: Clock; origin: number }): MemorySampler {
  const out: MemorySample[] = [];
  let timer: NodeJS.Timeout | null = null;
  let reading: Promise<void> | null = null;
  const read = () => {
    if (reading !== null || out.length >= MAX_MEMORY_SAMPLES) return reading ?? Promise.resolve();
    const at = opts.clock.now();
    reading = source()
      .then((rss) => {
        if (rss !== null) out.push({ tMs: at - opts.origin, rssBytes: rss });
      })
      .finally(() => {
        reading = null;
      });
    return reading;
  };
  return {
    async start() {
      await read();
      timer = setInterval(() => void read(), opts.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await reading;
    },
    async sampleNow() {
      await reading;
      await read();
    },
    samples: () => [...out],
    between: (from, to) => out.filter((s) => s.tMs + opts.origin >= from && s.tMs + opts.origin <= to),
  };
}
