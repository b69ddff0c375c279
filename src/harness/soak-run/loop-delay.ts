/** The harness's own event-loop delay, read once per memory sample: p99 beyond the resolution since the previous read. */
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface LoopDelayProbe {
  /** ms; null before any sample. Resets the histogram. */
  read(): number | null;
  stop(): void;
}

export function startLoopDelayProbe(resolutionMs = 10): LoopDelayProbe {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  return {
    read() {
      if (h.count === 0) return null;
      const v = Math.max(0, h.percentile(99) / 1e6 - resolutionMs);
      h.reset();
      return v;
    },
    stop: () => h.disable(),
  };
}
