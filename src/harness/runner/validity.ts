/**
 * Was the measurement trustworthy? If the harness itself was the bottleneck (its event loop lagged,
 * it sent requests late against an open-loop schedule, or the throughput reached what the harness
 * can drive at all) the run is INVALID, which is neither green nor red. Delay and lateness must
 * stay below their limits, so a limit of 0 makes any run that measured them invalid.
 */
import type { ValidityLimits } from "../scenarios/types.js";

export interface ValidityMeasurements {
  scenario: string;
  eventLoopDelayP99Ms: number | null;
  /** Open-loop runs only; null in closed-loop runs. */
  sendLatenessP99Ms: number | null;
  throughputRps: number | null;
  /** What this harness can drive against a trivial endpoint (bench:harness or an in-run probe). */
  harnessCapacityRps: number | null;
  /** Share of the machine's CPU used by processes other than the harness and the server; null when unknown. */
  foreignCpuPct: number | null;
}

export interface ValidityAssessment {
  invalid: string[];
  notes: string[];
}

/** Above this share of the harness's capacity, the report says so even when the run stays valid. */
const NOTE_CAPACITY_PCT = 50;

const ms = (v: number) => `${Math.round(v * 10) / 10} ms`;

export function assessValidity(m: ValidityMeasurements, limits: ValidityLimits): ValidityAssessment {
  const invalid: string[] = [];
  const notes: string[] = [];
  if (m.eventLoopDelayP99Ms !== null && m.eventLoopDelayP99Ms >= limits.maxEventLoopDelayP99Ms) {
    invalid.push(`${m.scenario}: the harness's event-loop delay p99 was ${ms(m.eventLoopDelayP99Ms)} (limit ${ms(limits.maxEventLoopDelayP99Ms)}): the harness could not keep up`);
  }
  if (m.sendLatenessP99Ms !== null && m.sendLatenessP99Ms >= limits.maxSendLatenessP99Ms) {
    invalid.push(`${m.scenario}: requests were sent late: lateness p99 ${ms(m.sendLatenessP99Ms)} (limit ${ms(limits.maxSendLatenessP99Ms)}) against the schedule`);
  }
  if (m.foreignCpuPct !== null && m.foreignCpuPct > limits.maxForeignCpuPct) {
    invalid.push(`${m.scenario}: other processes used ${Math.round(m.foreignCpuPct)}% of the machine's CPU during the measurement (limit ${limits.maxForeignCpuPct}%): the latencies say more about them than about the server`);
  }
  if (m.harnessCapacityRps === null) {
    notes.push(`${m.scenario}: the harness's own capacity is unknown; run npm run bench:harness`);
  } else if (m.throughputRps !== null && m.harnessCapacityRps > 0) {
    const pct = Math.round((m.throughputRps / m.harnessCapacityRps) * 100);
    const text = `${m.scenario}: ${Math.round(m.throughputRps)} req/s is ${pct}% of what this harness can drive (${Math.round(m.harnessCapacityRps)} req/s)`;
    if (pct > limits.harnessCapacityPct) invalid.push(`${text}: the harness, not the server, was the limit`);
    else if (pct >= NOTE_CAPACITY_PCT) notes.push(`${text}: close to the harness's limit`);
  }
  return { invalid, notes };
}
