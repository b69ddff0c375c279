/**
 * N generation slots with a bounded FIFO wait queue in front of them. A full queue is refused at once
 * (503 with Retry-After), never a hang; an aborted waiter leaves the queue.
 */
import { performance } from "node:perf_hooks";
import { ApiError } from "../errors.js";

export interface SlotLease {
  readonly slot: number;
  /** Time spent waiting for the slot (monotonic ms). */
  readonly queuedMs: number;
  /** Frees the slot; calling it again does nothing. */
  release(): void;
}

export interface AcquireOptions {
  signal?: AbortSignal | undefined;
  /** Picks one of the free slot indices (e.g. the one whose KV cache holds the longest prefix). */
  choose?: ((free: number[]) => number) | undefined;
}

export interface SlotPoolStats {
  slots: number;
  busy: number;
  waiting: number;
  queueMax: number;
}

export interface SlotPool {
  acquire(options?: AcquireOptions): Promise<SlotLease>;
  stats(): SlotPoolStats;
  /** Resolves when no slot is busy. */
  idle(): Promise<void>;
  /** Refuses new requests and rejects every waiter. */
  close(): void;
}

interface Waiter {
  resolve(lease: SlotLease): void;
  reject(err: unknown): void;
  enqueuedAt: number;
  detach(): void;
}

export interface SlotPoolOptions {
  slots: number;
  queueMax: number;
  now?: () => number;
  /** Retry-After hint for a full queue, in seconds. */
  retryAfterSeconds?: number;
}

export function createSlotPool(options: SlotPoolOptions): SlotPool {
  const now = options.now ?? (() => performance.now());
  const free = new Set<number>(Array.from({ length: options.slots }, (_, i) => i));
  const queue: Waiter[] = [];
  let idleWaiters: Array<() => void> = [];
  let closed = false;

  const lease = (slot: number, enqueuedAt: number): SlotLease => {
    let released = false;
    return {
      slot,
      queuedMs: now() - enqueuedAt,
      release() {
        if (released) return;
        released = true;
        const next = queue.shift();
        if (next) {
          next.detach();
          next.resolve(lease(slot, next.enqueuedAt));
          return;
        }
        free.add(slot);
        if (free.size === options.slots) {
          const ws = idleWaiters;
          idleWaiters = [];
          for (const w of ws) w();
        }
      },
    };
  };

  const take = (choose: AcquireOptions["choose"], enqueuedAt: number): SlotLease => {
    const list = [...free].sort((a, b) => a - b);
    let slot = list[0]!;
    if (choose && list.length > 1) {
      const picked = choose(list);
      if (free.has(picked)) slot = picked;
    }
    free.delete(slot);
    return lease(slot, enqueuedAt);
  };

  return {
    acquire(opts = {}) {
      if (closed) return Promise.reject(new ApiError("shutting_down", "the server is shutting down; retry on another instance"));
      const signal = opts.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      const enqueuedAt = now();
      if (free.size > 0) return Promise.resolve(take(opts.choose, enqueuedAt));
      if (queue.length >= options.queueMax) {
        return Promise.reject(
          new ApiError(
            "queue_full",
            `the server is busy: all ${options.slots} slots are in use and ${queue.length} requests are waiting; retry later`,
            { retryAfterSeconds: options.retryAfterSeconds ?? 1 },
          ),
        );
      }
      return new Promise<SlotLease>((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i !== -1) queue.splice(i, 1);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          resolve,
          reject,
          enqueuedAt,
          detach: () => signal?.removeEventListener("abort", onAbort),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
      });
    },
    stats() {
      return { slots: options.slots, busy: options.slots - free.size, waiting: queue.length, queueMax: options.queueMax };
    },
    idle() {
      if (free.size === options.slots) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    close() {
      closed = true;
      for (const w of queue.splice(0)) {
        w.detach();
        w.reject(new ApiError("shutting_down", "the server is shutting down; retry on another instance"));
      }
    },
  };
}
