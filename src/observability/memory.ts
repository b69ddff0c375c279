/**
 * Process memory for GET /v1/metrics: the current reading, the peak, and the growth since a
 * post-warm-up baseline.
 *
 * Baseline: the RSS of the first reading taken once `baselineAfterRequests` chat requests have
 * completed (the reading is taken as the N-th one completes) or `baselineAfterMs` of uptime have
 * passed (the reading is the first /v1/metrics call after that), whichever comes first. Growth is
 * (rss - baseline) / baseline * 100, and 0 until the baseline exists. Readings never throw: a failing
 * reader gives { ok: false } (the endpoint then reports null fields and degraded).
 */

export interface MemoryReading {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** The OS's high-water mark of RSS, when known. */
  peakRssBytes?: number | undefined;
}

export type MemoryReader = () => MemoryReading;

/** This process, via process.memoryUsage() and getrusage's maxRSS (KiB on Linux and macOS). */
export const processMemoryReader: MemoryReader = () => {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
};

export type MemorySnapshot =
  | { ok: true; rssMb: number; heapUsedMb: number; externalMb: number; peakRssMb: number; baselineRssMb: number | null; growthPct: number }
  | { ok: false };

export interface MemoryTrackerOptions {
  read: MemoryReader;
  /** Monotonic clock in ms. */
  now: () => number;
  baselineAfterRequests?: number;
  baselineAfterMs?: number;
}

export const DEFAULT_BASELINE_AFTER_REQUESTS = 20;
export const DEFAULT_BASELINE_AFTER_MS = 60_000;

const MiB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MiB) * 100) / 100;
const valid = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

export class MemoryTracker {
  readonly #opts: Required<MemoryTrackerOptions>;
  readonly #start: number;
  #completed = 0;
  #baseline: number | null = null;
  #peak = 0;

  constructor(options: MemoryTrackerOptions) {
    this.#opts = {
      baselineAfterRequests: DEFAULT_BASELINE_AFTER_REQUESTS,
      baselineAfterMs: DEFAULT_BASELINE_AFTER_MS,
      ...options,
    };
    this.#start = options.now();
  }

  /** Call once per completed chat request; the N-th one takes the baseline. */
  requestCompleted(): void {
    this.#completed++;
    if (this.#baseline === null && this.#completed >= this.#opts.baselineAfterRequests) {
      const r = this.#read();
      if (r) this.#baseline = r.rssBytes;
    }
  }

  /** Whether a reading succeeds now (it also updates the peak). */
  readable(): boolean {
    return this.#read() !== null;
  }

  snapshot(): MemorySnapshot {
    const r = this.#read();
    if (!r) return { ok: false };
    if (this.#baseline === null && this.#opts.now() - this.#start >= this.#opts.baselineAfterMs) this.#baseline = r.rssBytes;
    const base = this.#baseline;
    return {
      ok: true,
      rssMb: mb(r.rssBytes),
      heapUsedMb: mb(r.heapUsedBytes),
      externalMb: mb(r.externalBytes),
      peakRssMb: mb(this.#peak),
      baselineRssMb: base === null ? null : mb(base),
      growthPct: base === null || base === 0 ? 0 : Math.round(((r.rssBytes - base) / base) * 10_000) / 100,
    };
  }

  #read(): MemoryReading | null {
    let r: MemoryReading;
    try {
      r = this.#opts.read();
    } catch {
      return null;
    }
    if (!r || !valid(r.rssBytes) || !valid(r.heapUsedBytes) || !valid(r.externalBytes)) return null;
    this.#peak = Math.max(this.#peak, r.rssBytes, valid(r.peakRssBytes) ? r.peakRssBytes : 0);
    return r;
  }
}
