/**
 * Bounded per-window value tracks.
 *
 * - createSampler(cap): exact count/min/max/mean; percentiles by nearest rank (the
 *   value at rank ceil(p/100 * n)) over the retained values. Keeps every value until
 *   `cap`, then thins systematically: it halves what it holds and from then on keeps
 *   every 2nd, 4th, ... value (deterministic, unbiased for a stationary stream).
 *   Retains at most `cap` numbers.
 * - createHistogramTrack(factory): the same summary from an injected mergeable
 *   histogram (e.g. LatencyHistogram), whose JSON is embedded in the summary.
 */

export interface HistogramLike {
  record(value: number): void;
  toJSON(): unknown;
  /** p in 0..100; null when empty. */
  percentile(p: number): number | null;
}

export type HistogramFactory = () => HistogramLike;

export interface ValueSummary {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** exact: every value kept; sampled: systematically thinned; histogram: injected histogram. */
  estimator: "exact" | "sampled" | "histogram";
  histogram?: unknown;
}

export interface ValueTrack {
  add(value: number): void;
  summary(): ValueSummary;
  /** Numbers (or opaque histograms, counted as 1) held. */
  retained(): number;
}

export interface Sampler extends ValueTrack {
  last(): number | null;
  count(): number;
}

export function createSampler(cap: number): Sampler {
  if (!Number.isInteger(cap) || cap < 2) throw new RangeError(`sampler cap must be an integer >= 2, got ${cap}`);
  let values: number[] = [];
  let stride = 1;
  let seen = 0;
  const stats = createStats();
  const percentile = (sorted: number[], p: number): number | null =>
    sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return {
    add(value) {
      if (!Number.isFinite(value)) return;
      stats.add(value);
      if (seen++ % stride !== 0) return;
      values.push(value);
      if (values.length >= cap) {
        values = values.filter((_, i) => i % 2 === 0);
        stride *= 2;
      }
    },
    summary() {
      const sorted = values.length > 1 ? values.slice().sort((a, b) => a - b) : values;
      const { count, min, max, mean } = stats.summary();
      return {
        count,
        min,
        max,
        mean,
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        estimator: stride === 1 ? "exact" : "sampled",
      };
    },
    last: () => stats.last(),
    count: () => stats.summary().count,
    retained: () => values.length,
  };
}

export function createHistogramTrack(factory: HistogramFactory): ValueTrack {
  const histogram = factory();
  const stats = createStats();
  return {
    add(value) {
      if (!Number.isFinite(value)) return;
      stats.add(value);
      histogram.record(value);
    },
    summary: () => ({
      ...stats.summary(),
      p50: histogram.percentile(50),
      p95: histogram.percentile(95),
      p99: histogram.percentile(99),
      estimator: "histogram",
      histogram: histogram.toJSON(),
    }),
    retained: () => 1,
  };
}

function createStats(): {
  add(v: number): void;
  last(): number | null;
  summary(): Pick<ValueSummary, "count" | "min" | "max" | "mean">;
} {
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let last: number | null = null;
  return {
    add(v) {
      count++;
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
      last = v;
    },
    last: () => last,
    summary: () =>
      count === 0 ? { count, min: null, max: null, mean: null } : { count, min, max, mean: sum / count },
  };
}
