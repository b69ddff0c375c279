/**
 * Picks, decode by decode, between the plan's minimum threads per slot and the larger count a lone
 * generation may use, by measured speed. More OpenMP threads are about twice as fast on an idle
 * machine, but ggml's threads busy-wait at every barrier: when other processes take the cores, a
 * decode with 2 threads was measured at 20 ms per token against 0.3 ms with 1. The governor keeps
 * an exponentially weighted mean of single-token decode time per thread count, uses the faster,
 * and probes the other now and then (less often while a probe keeps losing).
 *
 * More threads must win by a margin (default 15%): their spinning takes the core the server's own thread
 * needs for HTTP, JSON and the token loop, a cost the decode time does not show. On the tiny model 2 threads
 * decoded ~9% faster in-process, yet `gauntlet serve` did 6-15% fewer requests/s with them than with 1; on
 * the medium model they decode ~25-30% faster and win over HTTP too (bench:engine, 2 cores). And when a
 * single-token decode at the minimum already takes under 1 ms (tiny models), the larger count is not even
 * tried: over HTTP, 1 thread matched llama-server where the governed 2-thread plan fell to 0.83-0.86 of it at 8
 * connections, although 2 threads decoded faster on their own.
 */

export interface ThreadGovernorOptions {
  /** The thread count every slot can always use (the plan's threadsPerSlot). */
  min: number;
  /** Weight of a new sample in the mean (default 0.2). */
  alpha?: number;
  /** Decodes between probes of the slower count, at first (default 32); doubles while probes lose. */
  minProbeInterval?: number;
  /** Upper bound of that interval (default 1024). */
  maxProbeInterval?: number;
  /** How much faster (a fraction) a count above `min` must be to be used (default 0.15). */
  margin?: number;
  /** Below this single-token decode time (ms) at `min`, larger counts are not used (default 1). */
  minUsefulMs?: number;
}

export interface ThreadGovernor {
  /** Threads for the next decode when the plan would allow `wanted`. */
  choose(wanted: number): number;
  /** A single-token decode took `ms` with `threads` threads (a lone generation). */
  record(threads: number, ms: number): void;
  /** Mean single-token decode time (ms) per thread count measured so far. */
  snapshot(): Record<number, number>;
}

export function createThreadGovernor(opts: ThreadGovernorOptions): ThreadGovernor {
  const alpha = opts.alpha ?? 0.2;
  const minInterval = opts.minProbeInterval ?? 32;
  const maxInterval = opts.maxProbeInterval ?? 1024;
  const margin = opts.margin ?? 0.15;
  const minUsefulMs = opts.minUsefulMs ?? 1;
  const mean = new Map<number, number>();
  let interval = minInterval;
  let sinceProbe = 0;
  let probing: number | null = null;

  /** The better of two counts: unmeasured first (to measure it), else the faster, a count above min by the margin. */
  const faster = (a: number, b: number): number => {
    const ma = mean.get(a);
    const mb = mean.get(b);
    if (ma === undefined) return a;
    if (mb === undefined) return b;
    const cost = (t: number, m: number) => (t > opts.min ? m / (1 - margin) : m);
    return cost(a, ma) <= cost(b, mb) ? a : b;
  };

  return {
    choose(wanted) {
      if (wanted <= opts.min) return opts.min;
      const atMin = mean.get(opts.min);
      if (atMin !== undefined && atMin < minUsefulMs) return opts.min;
      // Try the larger count first; afterwards the faster one, probing the other every `interval` decodes.
      const best = faster(wanted, opts.min);
      const other = best === wanted ? opts.min : wanted;
      if (++sinceProbe >= interval) {
        sinceProbe = 0;
        probing = other;
        return other;
      }
      return best;
    },
    record(threads, ms) {
      if (!(ms >= 0)) return;
      const prev = mean.get(threads);
      // A probe's count was not measured for a while: its fresh sample replaces the stale mean.
      mean.set(threads, prev === undefined || probing === threads ? ms : prev + alpha * (ms - prev));
      if (probing === threads) {
        probing = null;
        const best = [...mean.keys()].reduce((a, b) => faster(a, b));
        // A probe that lost: look again later; one that won: keep checking at the short interval.
        interval = best === threads ? minInterval : Math.min(maxInterval, interval * 2);
      }
    },
    snapshot: () => Object.fromEntries(mean),
  };
}

export interface ThreadChooserOptions {
  /** Threads per slot when every slot is busy (contexts layout). */
  threads: number;
  /** Threads for a lone generation (contexts) or for the shared decode (batched). */
  maxThreads: number;
  /** false = always the planned count, never measured. */
  governed: boolean;
  busySlots: () => number;
}

export interface ThreadLease {
  threads: number;
  done(ms: number): void;
}

/**
 * Thread choice per decode for the engine's slot layouts, each weighed against 1 thread (which never
 * busy-waits) by measured time of a generation step: per number of busy slots for "contexts" (a
 * lone slot may use every core), per number of sequences in the step for "batched" (one decode
 * for all slots gets every core). `steps` = sequences advanced by one token (0 = prompt tokens: not measured).
 */
export function createThreadChooser(o: ThreadChooserOptions) {
  const governors = new Map<string, ThreadGovernor>();
  const governor = (key: string) => {
    let g = governors.get(key);
    if (!g) governors.set(key, (g = createThreadGovernor({ min: 1 })));
    return g;
  };
  const forLayout = (layout: "contexts" | "batched") => ({
    acquire(steps: number): ThreadLease {
      const key = layout === "batched" ? Math.max(1, steps) : Math.max(1, o.busySlots());
      const wanted = layout === "batched" ? o.maxThreads : Math.max(o.threads, Math.floor(o.maxThreads / key));
      const g = governor(`${layout}:${key}`);
      const threads = o.governed ? g.choose(wanted) : wanted;
      return { threads, done: (ms) => (steps > 0 ? g.record(threads, ms) : undefined) };
    },
  });
  return Object.assign(forLayout, {
    /** Mean step time per thread count for one busy slot / one-sequence steps. */
    snapshot: (layout: "contexts" | "batched") => governors.get(`${layout}:1`)?.snapshot() ?? {},
  });
}
