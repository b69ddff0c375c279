/** The harness's own event-loop delay (perf_hooks.monitorEventLoopDelay), for the validity check. */
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface EventLoopMonitor {
  /** p99 and max of the delay beyond the sampling interval, in ms; null before any sample. */
  stop(): { p99Ms: number | null; maxMs: number | null };
}

/** Node records the whole timer interval; the delay is what exceeds the resolution. */
export function startEventLoopMonitor(resolutionMs = 2): EventLoopMonitor {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  return {
    stop() {
      h.disable();
      if (h.count === 0) return { p99Ms: null, maxMs: null };
      const beyond = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
      return { p99Ms: beyond(h.percentile(99)), maxMs: beyond(h.max) };
    },
  };
}
