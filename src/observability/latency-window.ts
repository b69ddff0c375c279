/**
 * Sliding-window latency percentiles for GET /v1/metrics, on the harness's WindowedHistogram.
 *
 * Estimator: nearest-rank percentiles (the sample at rank ceil(p/100 * n)) over the samples of the
 * last `windowMs` (between windowMs - windowMs/slots and windowMs of history); exact while the window
 * holds at most EXACT_LIMIT samples, then log-linear buckets with relative error <= MAX_RELATIVE_ERROR
 * (1/128). Values are milliseconds rounded to 3 decimals (the microsecond).
 */
import { ESTIMATOR, WindowedHistogram } from "../harness/stats/index.js";

export { ESTIMATOR, MAX_RELATIVE_ERROR } from "../harness/stats/index.js";

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface LatencyWindowOptions {
  windowMs: number;
  /** Ring slots; the window slides in steps of windowMs / slots (default 12). */
  slots?: number;
  /** Monotonic clock in ms. */
  now: () => number;
}

export const WINDOW_ESTIMATOR = `sliding window; ${ESTIMATOR}`;

const round = (v: number | null) => (v === null ? 0 : Math.round(v * 1000) / 1000);

export class LatencyWindow {
  readonly windowMs: number;
  readonly #hist: WindowedHistogram;

  constructor(options: LatencyWindowOptions) {
    this.windowMs = options.windowMs;
    this.#hist = new WindowedHistogram({ windowMs: options.windowMs, slots: options.slots ?? 12, now: options.now });
  }

  /** Records one latency in ms; throws a RangeError for a negative or non-finite value. */
  record(ms: number): void {
    this.#hist.record(ms);
  }

  /** Percentiles of the live window; zeros when it is empty. */
  summary(): LatencySummary {
    const h = this.#hist.snapshot();
    return { count: h.count, p50: round(h.percentile(50)), p95: round(h.percentile(95)), p99: round(h.percentile(99)) };
  }
}
