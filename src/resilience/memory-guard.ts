/**
 * Watches memory usage against a limit. At >= clearPct it asks the owner to free memory (onClear), once per
 * crossing: it re-arms only after usage falls below clearPct - hysteresisPct. At >= rejectPct new requests
 * should be refused (503) until usage falls below rejectPct - hysteresisPct. Checks run on an injected,
 * unref'd interval; shouldReject() is a cheap synchronous read of the last verdict.
 */
export type MemoryState = "ok" | "pressure" | "critical";

export interface TimerHandle {
  unref?(): unknown;
}

export interface Scheduler {
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

export interface MemoryGuardOptions {
  limitBytes: number;
  /** Usage percentage that triggers onClear (default 90). */
  clearPct?: number | undefined;
  /** Usage percentage from which requests are rejected (default 95). */
  rejectPct?: number | undefined;
  /** How far below a threshold usage must fall to leave its state (default 2 points). */
  hysteresisPct?: number | undefined;
  /** Current usage in bytes. A throw or rejection keeps the previous state. */
  readUsage: () => number | Promise<number>;
  /** Frees memory (e.g. clears caches). Errors are counted and otherwise ignored. */
  onClear?: (() => void | Promise<void>) | undefined;
  /** Period of the timer started by start() (default 1000 ms). */
  intervalMs?: number | undefined;
  scheduler?: Scheduler | undefined;
}

export interface MemoryGuardStats {
  state: MemoryState;
  /** Usage at the last successful check, as a percentage of the limit (0 before the first). */
  lastUsagePct: number;
  lastUsageBytes: number;
  checks: number;
  /** onClear calls. */
  clears: number;
  /** shouldReject() calls answered true. */
  rejections: number;
  readErrors: number;
  clearErrors: number;
}

export interface MemoryGuard {
  /** Reads usage and updates the state (concurrent calls share one reading). */
  check(): Promise<MemoryState>;
  /** Whether a new request should be refused now; counts rejections. */
  shouldReject(): boolean;
  stats(): MemoryGuardStats;
  start(): void;
  stop(): void;
}

const defaultScheduler: Scheduler = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export function createMemoryGuard(opts: MemoryGuardOptions): MemoryGuard {
  const clearPct = opts.clearPct ?? 90;
  const rejectPct = opts.rejectPct ?? 95;
  const hysteresis = opts.hysteresisPct ?? 2;
  const intervalMs = opts.intervalMs ?? 1000;
  const scheduler = opts.scheduler ?? defaultScheduler;
  if (!Number.isFinite(opts.limitBytes) || opts.limitBytes <= 0) throw new RangeError("limitBytes must be > 0");
  if (!(clearPct > 0 && clearPct <= rejectPct)) throw new RangeError("need 0 < clearPct <= rejectPct");
  if (!(hysteresis >= 0)) throw new RangeError("hysteresisPct must be >= 0");
  if (!(intervalMs > 0)) throw new RangeError("intervalMs must be > 0");

  let pressure = false;
  let rejecting = false;
  let timer: TimerHandle | undefined;
  let inFlight: Promise<MemoryState> | undefined;
  const s = { lastUsagePct: 0, lastUsageBytes: 0, checks: 0, clears: 0, rejections: 0, readErrors: 0, clearErrors: 0 };

  const state = (): MemoryState => (rejecting ? "critical" : pressure ? "pressure" : "ok");

  function clear(): void {
    s.clears++;
    try {
      const result = opts.onClear?.();
      if (result !== undefined) Promise.resolve(result).catch(() => s.clearErrors++);
    } catch {
      s.clearErrors++;
    }
  }

  function apply(bytes: number): void {
    const pct = (bytes / opts.limitBytes) * 100;
    s.lastUsageBytes = bytes;
    s.lastUsagePct = pct;
    if (!pressure && pct >= clearPct) {
      pressure = true;
      clear();
    } else if (pressure && pct < clearPct - hysteresis) pressure = false;
    if (!rejecting && pct >= rejectPct) rejecting = true;
    else if (rejecting && pct < rejectPct - hysteresis) rejecting = false;
  }

  async function run(): Promise<MemoryState> {
    s.checks++;
    try {
      const bytes = await opts.readUsage();
      if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) throw new TypeError("bad usage");
      apply(bytes);
    } catch {
      s.readErrors++;
    }
    return state();
  }

  const guard: MemoryGuard = {
    check(): Promise<MemoryState> {
      inFlight ??= run().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    shouldReject(): boolean {
      if (rejecting) s.rejections++;
      return rejecting;
    },
    stats: () => ({ state: state(), ...s }),
    start(): void {
      if (timer !== undefined) return;
      timer = scheduler.setInterval(() => void guard.check(), intervalMs);
      timer.unref?.();
    },
    stop(): void {
      if (timer === undefined) return;
      scheduler.clearInterval(timer);
      timer = undefined;
    },
  };
  return guard;
}
