/**
 * Picks, decode by decode, between the plan's minimum threads per slot and the larger count a lone
 * generation may use, by measured speed. More OpenMP threads are about twice as fast on an idle
 * machine, but ggml's threads busy-wait at every barrier: when other processes take the cores, a
 * decode with 2 threads was measured at 20 ms per token against 0.3 ms with 1. The governor keeps
 * the last single-token decode times per thread count, uses the count whose median is lower, and
 * probes the other now and then with a few decodes (less often while probes keep losing).
 *
 * A median, not a mean: a decode whose thread was preempted for a moment takes several times as long,
 * and with 2 threads on 2 cores that happens every few dozen tokens while the server's own thread works.
 * With a moving mean, one such sample sent the medium model back to 1 thread for the next probe
 * interval: gauntlet serve ran 55% of its decodes on 1 thread and served ~20% fewer requests/s than
 * with 2 fixed threads (1.6 ms median per token lost). A probe is several decodes for the same reason:
 * one lucky (or unlucky) decode must not decide.
 *
 * More threads must win by a margin (default 15%): their spinning takes the core the server's own thread
 * needs for HTTP, JSON and the token loop, a cost the decode time does not show. On the tiny model 2 threads
 * decoded ~9% faster in-process, yet `gauntlet serve` did 6-15% fewer requests/s with them than with 1; on
 * the medium model they decode ~35% faster and win over HTTP too (bench:engine, 2 cores). And when a
 * single-token decode at the minimum already takes under 1 ms (tiny models), the larger count is not even
 * tried: over HTTP, 1 thread matched llama-server where the governed 2-thread plan fell to 0.83-0.86 of it at 8
 * connections, although 2 threads decoded faster on their own.
 */

export interface ThreadGovernorOptions {
  /** The thread count every slot can always use (the plan's threadsPerSlot). */
  min: number;
  /** Recent decodes per thread count whose median is the estimate (default 16). */
  window?: number;
  /** Decodes in one probe of the other count (default 3). */
  probeLength?: number;
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
  /**
   * Threads for the next decode when the plan would allow `wanted`. `probe` false: a decode whose time will
   * not be recorded (prompt tokens) gets the current best count and never starts or continues a probe.
   */
  choose(wanted: number, probe?: boolean): number;
  /** A single-token decode took `ms` with `threads` threads (a lone generation). */
  record(threads: number, ms: number): void;
  /** Median recent single-token decode time (ms) per thread count measured so far. */
  snapshot(): Record<number, number>;
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function createThreadGovernor(opts: ThreadGovernorOptions): ThreadGovernor {
  const windowSize = Math.max(1, opts.window ?? 16);
  const probeLength = Math.max(1, opts.probeLength ?? 3);
  const minInterval = opts.minProbeInterval ?? 32;
  const maxInterval = opts.maxProbeInterval ?? 1024;
  const margin = opts.margin ?? 0.15;
  const minUsefulMs = opts.minUsefulMs ?? 1;
  const samples = new Map<number, number[]>();
  let interval = minInterval;
  let sinceProbe = 0;
  /** The count being probed and how many of its decodes are still to be recorded. */
  let probing: { threads: number; remaining: number } | null = null;

  /** Median per thread count, kept up to date by record() (choose() runs before every decode). */
  const medians = new Map<number, number>();
  const estimate = (t: number) => medians.get(t);
  /** The better of two measured counts: the faster, a count above min only by the margin. */
  const faster = (a: number, b: number): number => {
    const cost = (t: number) => {
      const m = estimate(t)!;
      return t > opts.min ? m / (1 - margin) : m;
    };
    return cost(a) <= cost(b) ? a : b;
  };
  const startProbe = (threads: number) => {
    samples.set(threads, []);
    medians.delete(threads);
    probing = { threads, remaining: probeLength };
    return threads;
  };

  return {
    choose(wanted, probe = true) {
      if (wanted <= opts.min) return opts.min;
      const atMin = estimate(opts.min);
      if (atMin !== undefined && atMin < minUsefulMs) return opts.min;
      const measuredWanted = estimate(wanted) !== undefined;
      const measuredMin = atMin !== undefined;
      if (!probe) {
        // Not measured: the best count known so far (the one being probed counts only once it has a sample).
        if (measuredWanted && measuredMin) return faster(wanted, opts.min);
        return measuredMin ? opts.min : wanted;
      }
      if (probing) return probing.threads;
      // Measure the larger count first, then the minimum; afterwards the faster, probing the other every `interval` decodes.
      if (!measuredWanted) return startProbe(wanted);
      if (!measuredMin) return startProbe(opts.min);
      const best = faster(wanted, opts.min);
      if (++sinceProbe >= interval) {
        sinceProbe = 0;
        return startProbe(best === wanted ? opts.min : wanted);
      }
      return best;
    },
    record(threads, ms) {
      if (!(ms >= 0)) return;
      const xs = samples.get(threads) ?? [];
      xs.push(ms);
      if (xs.length > windowSize) xs.shift();
      samples.set(threads, xs);
      medians.set(threads, median(xs)!);
      if (probing?.threads !== threads || --probing.remaining > 0) return;
      probing = null;
      const counts = [...medians.keys()];
      if (counts.length < 2) return;
      const best = counts.reduce((a, b) => faster(a, b));
      // A probe that lost: look again later; one that won: keep checking at the short interval.
      interval = best === threads ? minInterval : Math.min(maxInterval, interval * 2);
    },
    snapshot: () => Object.fromEntries(medians),
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
      const threads = o.governed ? g.choose(wanted, steps > 0) : wanted;
      return { threads, done: (ms) => (steps > 0 ? g.record(threads, ms) : undefined) };
    },
  });
  return Object.assign(forLayout, {
    /** Mean step time per thread count for one busy slot / one-sequence steps. */
    snapshot: (layout: "contexts" | "batched") => governors.get(`${layout}:1`)?.snapshot() ?? {},
  });
}
