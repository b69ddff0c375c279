import { assertPercentile, nearestRank } from "./exact.js";
import { BUCKET_RELATIVE_ERROR, bucketKey, bucketValue } from "./log-linear.js";

/** Samples kept verbatim before the histogram switches to buckets. */
export const EXACT_LIMIT = 1024;

/** Worst-case relative error of a percentile once the histogram uses buckets (1/128). */
export const MAX_RELATIVE_ERROR = BUCKET_RELATIVE_ERROR;

/** How percentiles are estimated; quote this in reports. */
export const ESTIMATOR =
  `nearest-rank percentiles (the sample at rank ceil(p/100*n)); exact while n <= ${EXACT_LIMIT}, ` +
  `then log-linear buckets (64 linear sub-buckets per power of two, HDR-style) reporting the bucket ` +
  `midpoint clamped to [min, max], relative error <= ${(MAX_RELATIVE_ERROR * 100).toFixed(2)}%; ` +
  `min, max, mean and population stddev are exact`;

export interface HistogramSummary {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  stddev: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
}

/** Compact serialised form, for journals. `buckets` is [key, count, keyDelta, count, ...]. */
export interface HistogramJSON {
  v: 1;
  count: number;
  min: number | null;
  max: number | null;
  mean: number;
  m2: number;
  exact?: number[];
  buckets?: number[];
}

export interface HistogramOptions {
  /** Keep up to this many samples verbatim (default EXACT_LIMIT). */
  exactLimit?: number;
}

/**
 * Mergeable, bounded-memory histogram of non-negative values (milliseconds).
 * Memory is bounded by 64 counters per power of two of dynamic range actually used,
 * independent of the number of samples.
 */
export class LatencyHistogram {
  readonly exactLimit: number;
  #exact: number[] | null = [];
  #exactSorted = true;
  readonly #buckets = new Map<number, number>();
  #sortedKeys: number[] | null = null;
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;
  #mean = 0;
  #m2 = 0;

  constructor(options: HistogramOptions = {}) {
    const limit = options.exactLimit ?? EXACT_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`exactLimit must be a non-negative integer`);
    this.exactLimit = limit;
  }

  get count(): number { return this.#count; }
  get min(): number | null { return this.#count === 0 ? null : this.#min; }
  get max(): number | null { return this.#count === 0 ? null : this.#max; }
  get mean(): number | null { return this.#count === 0 ? null : this.#mean; }
  /** Population standard deviation. */
  get stddev(): number | null {
    return this.#count === 0 ? null : Math.sqrt(Math.max(0, this.#m2) / this.#count);
  }
  /** True while every sample is kept verbatim. */
  get isExact(): boolean { return this.#exact !== null; }

  record(value: number): void {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`histogram values must be finite and >= 0, got ${String(value)}`);
    }
    const v = value === 0 ? 0 : value; // folds -0 into 0
    this.#count++;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
    const delta = v - this.#mean;
    this.#mean += delta / this.#count;
    this.#m2 += delta * (v - this.#mean);
    if (this.#exact !== null) {
      this.#exact.push(v);
      this.#exactSorted = false;
      if (this.#exact.length > this.exactLimit) this.#toBuckets();
    } else {
      this.#add(bucketKey(v), 1);
    }
  }

  /** Adds every sample of `other` to this histogram (other is unchanged). Returns this. */
  merge(other: LatencyHistogram): this {
    if (other.#count === 0) return this;
    const otherExact = other.#exact === null ? null : [...other.#exact];
    const otherBuckets = [...other.#buckets];
    const n = this.#count + other.#count;
    const delta = other.#mean - this.#mean;
    this.#m2 = this.#m2 + other.#m2 + (delta * delta * this.#count * other.#count) / n;
    this.#mean = this.#mean + (delta * other.#count) / n;
    this.#count = n;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
    if (this.#exact !== null && otherExact !== null && this.#exact.length + otherExact.length <= this.exactLimit) {
      this.#exact.push(...otherExact);
      this.#exactSorted = false;
      return this;
    }
    this.#toBuckets();
    if (otherExact !== null) for (const v of otherExact) this.#add(bucketKey(v), 1);
    else for (const [k, c] of otherBuckets) this.#add(k, c);
    return this;
  }

  /** Nearest-rank percentile, p in 0..100; null when empty. */
  percentile(p: number): number | null {
    assertPercentile(p);
    if (this.#count === 0) return null;
    const rank = nearestRank(p, this.#count);
    if (this.#exact !== null) return this.#sortedExact()[rank - 1] ?? null;
    if (rank === 1) return this.#min;
    if (rank === this.#count) return this.#max;
    let seen = 0;
    for (const key of this.#keys()) {
      seen += this.#buckets.get(key) ?? 0;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, bucketValue(key)));
    }
    return this.#max;
  }

  summary(): HistogramSummary {
    return {
      count: this.#count,
      min: this.min,
      max: this.max,
      mean: this.mean,
      stddev: this.stddev,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  reset(): void {
    this.#exact = [];
    this.#exactSorted = true;
    this.#buckets.clear();
    this.#sortedKeys = null;
    this.#count = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = Number.NEGATIVE_INFINITY;
    this.#mean = 0;
    this.#m2 = 0;
  }

  toJSON(): HistogramJSON {
    const base = { v: 1 as const, count: this.#count, min: this.min, max: this.max, mean: this.#mean, m2: this.#m2 };
    if (this.#exact !== null) return { ...base, exact: [...this.#exact] };
    const flat: number[] = [];
    let prev = 0;
    for (const key of this.#keys()) {
      flat.push(flat.length === 0 ? key : key - prev, this.#buckets.get(key) ?? 0);
      prev = key;
    }
    return { ...base, buckets: flat };
  }

  static fromJSON(json: unknown, options: HistogramOptions = {}): LatencyHistogram {
    const h = new LatencyHistogram(options);
    const o = json as Partial<HistogramJSON> | null;
    const bad = (why: string): never => { throw new TypeError(`invalid histogram JSON: ${why}`); };
    if (typeof o !== "object" || o === null || o.v !== 1) return bad("expected an object with v: 1");
    const count = o.count;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) return bad("count");
    if (typeof o.mean !== "number" || !Number.isFinite(o.mean)) return bad("mean");
    if (typeof o.m2 !== "number" || !Number.isFinite(o.m2)) return bad("m2");
    if (count > 0 && !(isValue(o.min) && isValue(o.max) && o.min <= o.max)) return bad("min/max");
    if (Array.isArray(o.exact)) {
      if (o.exact.length !== count || !o.exact.every(isValue)) return bad("exact values");
      h.#exact = [...o.exact];
      h.#exactSorted = false;
      if (h.#exact.length > h.exactLimit) h.#toBuckets();
    } else if (Array.isArray(o.buckets)) {
      const flat = o.buckets;
      if (flat.length % 2 !== 0 || !flat.every(Number.isInteger)) return bad("buckets");
      h.#exact = null;
      let key = 0;
      let total = 0;
      for (let i = 0; i < flat.length; i += 2) {
        key = i === 0 ? flat[0]! : key + flat[i]!;
        const c = flat[i + 1]!;
        if (c <= 0 || (i > 0 && flat[i]! <= 0)) return bad("bucket counts and keys");
        h.#add(key, c);
        total += c;
      }
      if (total !== count) return bad("bucket counts do not add up to count");
    } else {
      return bad("expected exact or buckets");
    }
    h.#count = count;
    if (count > 0) { h.#min = o.min as number; h.#max = o.max as number; }
    h.#mean = o.mean;
    h.#m2 = o.m2;
    return h;
  }

  #add(key: number, c: number): void {
    const prev = this.#buckets.get(key);
    if (prev === undefined) this.#sortedKeys = null;
    this.#buckets.set(key, (prev ?? 0) + c);
  }

  #keys(): number[] {
    if (this.#sortedKeys === null) this.#sortedKeys = [...this.#buckets.keys()].sort((a, b) => a - b);
    return this.#sortedKeys;
  }

  #sortedExact(): number[] {
    const exact = this.#exact ?? [];
    if (!this.#exactSorted) { exact.sort((a, b) => a - b); this.#exactSorted = true; }
    return exact;
  }

  #toBuckets(): void {
    if (this.#exact === null) return;
    const values = this.#exact;
    this.#exact = null;
    for (const v of values) this.#add(bucketKey(v), 1);
  }
}

function isValue(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}
