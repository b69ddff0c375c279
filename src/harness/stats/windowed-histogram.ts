import { LatencyHistogram } from "./histogram.js";
import type { HistogramOptions } from "./histogram.js";

export interface WindowedHistogramOptions extends HistogramOptions {
  /** Length of the sliding window in milliseconds. */
  windowMs: number;
  /** Number of sub-histograms in the ring; the window slides in steps of windowMs / slots. */
  slots: number;
  /** Monotonic clock in milliseconds (e.g. performance.now); never wall-clock time. */
  now: () => number;
}

interface Slot {
  epoch: number;
  hist: LatencyHistogram;
}

/**
 * A sliding-window histogram: a ring of `slots` sub-histograms, each covering windowMs / slots.
 * A snapshot merges the live slots, so it covers between (windowMs - windowMs/slots) and windowMs
 * of history. Memory is bounded: slots x one LatencyHistogram.
 * A clock that steps backwards is treated as standing still.
 */
export class WindowedHistogram {
  readonly windowMs: number;
  readonly slotMs: number;
  readonly #slots: Slot[];
  readonly #now: () => number;
  #lastTime = Number.NEGATIVE_INFINITY;

  constructor(options: WindowedHistogramOptions) {
    const { windowMs, slots, now } = options;
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError("windowMs must be a positive number");
    if (!(Number.isInteger(slots) && slots > 0)) throw new RangeError("slots must be a positive integer");
    this.windowMs = windowMs;
    this.slotMs = windowMs / slots;
    this.#now = now;
    this.#slots = Array.from({ length: slots }, () => ({ epoch: Number.NEGATIVE_INFINITY, hist: new LatencyHistogram(options) }));
  }

  record(value: number): void {
    const epoch = this.#epoch();
    const slot = this.#slotFor(epoch);
    if (slot.epoch !== epoch) {
      const fresh = new LatencyHistogram({ exactLimit: slot.hist.exactLimit });
      fresh.record(value); // validates before the old slot is dropped
      slot.epoch = epoch;
      slot.hist = fresh;
      return;
    }
    slot.hist.record(value);
  }

  /** A new histogram holding every sample of the live slots. */
  snapshot(): LatencyHistogram {
    const epoch = this.#epoch();
    const out = new LatencyHistogram({ exactLimit: this.#slots[0]?.hist.exactLimit ?? 0 });
    for (const slot of this.#slots) {
      if (slot.epoch > epoch - this.#slots.length && slot.epoch <= epoch) out.merge(slot.hist);
    }
    return out;
  }

  #epoch(): number {
    const t = Math.max(this.#now(), this.#lastTime);
    this.#lastTime = t;
    return Math.floor(t / this.slotMs);
  }

  #slotFor(epoch: number): Slot {
    const n = this.#slots.length;
    const slot = this.#slots[((epoch % n) + n) % n];
    if (slot === undefined) throw new Error("unreachable: ring index out of range");
    return slot;
  }
}
