/**
 * Open-loop arrival schedules, computed before the run (as vLLM's benchmark does) so that sending
 * late can be measured against them: constant spacing or Poisson arrivals from a seeded PRNG.
 */
import { mulberry32 } from "../../engine/gguf/prng.js";

export interface ScheduleOptions {
  /** Requests per second. */
  rate: number;
  arrival: "constant" | "poisson";
  seed: number;
  /** Number of arrivals, or null to fill durationMs. */
  count: number | null;
  durationMs: number | null;
}

/** Hard cap on a schedule's length, whatever the options say. */
export const MAX_SCHEDULE = 1_000_000;

/** Offsets in ms from the start of the run, non-decreasing, all below durationMs when it is set. */
export function arrivalOffsets(o: ScheduleOptions): number[] {
  if (!(o.rate > 0)) throw new RangeError(`rate must be > 0, got ${o.rate}`);
  const random = mulberry32(o.seed);
  const gapMs = 1000 / o.rate;
  const limit = Math.min(o.count ?? MAX_SCHEDULE, MAX_SCHEDULE);
  const out: number[] = [];
  let t = 0;
  while (out.length < limit) {
    if (o.durationMs !== null && t >= o.durationMs) break;
    out.push(t);
    t += o.arrival === "constant" ? gapMs : -Math.log(1 - random()) * gapMs;
  }
  return out;
}
