/** The run's monotonic clock; tests inject a fake one. Durations never come from wall-clock time. */
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => delay(Math.max(0, ms)),
};
