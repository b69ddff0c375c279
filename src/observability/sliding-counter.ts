/**
 * Events per second over a sliding window, in constant memory: a ring of `slots` counters, each
 * covering windowMs / slots (the same ring layout as WindowedHistogram). The rate divides the events
 * of the live slots by the time those slots cover, which is never more than the time since the
 * counter was created (a young server is not diluted) and never less than one second.
 */

export interface SlidingCounterOptions {
  windowMs: number;
  slots: number;
  /** Monotonic clock in milliseconds (performance.now); never wall-clock time. */
  now: () => number;
}

const MIN_COVERED_MS = 1_000;

export class SlidingCounter {
  readonly windowMs: number;
  readonly slotMs: number;
  readonly #counts: number[];
  readonly #epochs: number[];
  readonly #now: () => number;
  readonly #start: number;
  #last = Number.NEGATIVE_INFINITY;

  constructor(options: SlidingCounterOptions) {
    const { windowMs, slots } = options;
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError("windowMs must be a positive number");
    if (!(Number.isInteger(slots) && slots > 0)) throw new RangeError("slots must be a positive integer");
    this.windowMs = windowMs;
    this.slotMs = windowMs / slots;
    this.#now = options.now;
    this.#counts = new Array<number>(slots).fill(0);
    this.#epochs = new Array<number>(slots).fill(Number.NEGATIVE_INFINITY);
    this.#start = this.#time();
  }

  add(n = 1): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`increments must be non-negative integers, got ${String(n)}`);
    const epoch = Math.floor(this.#time() / this.slotMs);
    const i = this.#index(epoch);
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#counts[i] = 0;
    }
    this.#counts[i] = (this.#counts[i] ?? 0) + n;
  }

  /** Events in the live slots. */
  count(): number {
    const epoch = Math.floor(this.#time() / this.slotMs);
    const n = this.#counts.length;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const e = this.#epochs[i] ?? Number.NEGATIVE_INFINITY;
      if (e > epoch - n && e <= epoch) sum += this.#counts[i] ?? 0;
    }
    return sum;
  }

  ratePerSecond(): number {
    const t = this.#time();
    const epoch = Math.floor(t / this.slotMs);
    const windowStart = (epoch - this.#counts.length + 1) * this.slotMs;
    const covered = Math.max(MIN_COVERED_MS, t - Math.max(this.#start, windowStart));
    return (this.count() * 1000) / covered;
  }

  #time(): number {
    const t = Math.max(this.#now(), this.#last);
    this.#last = t;
    return t;
  }

  #index(epoch: number): number {
    const n = this.#counts.length;
    return ((epoch % n) + n) % n;
  }
}
