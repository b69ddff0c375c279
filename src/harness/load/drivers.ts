/**
 * The two ways load is offered. Closed loop: `connections` workers, each sending its next request
 * when the previous one answered (what autocannon does). Open loop: requests start on a precomputed
 * schedule whatever the answers do, and how late each one started is recorded: a harness that
 * cannot keep its schedule makes the run INVALID, not red.
 */
import { LatencyHistogram } from "../stats/histogram.js";
import type { Clock } from "./clock.js";

export interface ClosedLoopOptions {
  connections: number;
  /** Requests to send, or null to send until durationMs has passed. */
  count: number | null;
  durationMs: number | null;
  clock: Clock;
  send: (index: number) => Promise<void>;
  /** Checked before each request: true stops the run early (e.g. on Ctrl-C). */
  stop?: () => boolean;
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<{ sent: number }> {
  const start = o.clock.now();
  let next = 0;
  const more = () =>
    o.stop?.() !== true && (o.count === null || next < o.count) && (o.durationMs === null || o.clock.now() - start < o.durationMs);
  const worker = async () => {
    while (more()) await o.send(next++);
  };
  const workers = Math.max(1, Math.min(o.connections, o.count ?? o.connections));
  await Promise.all(Array.from({ length: workers }, worker));
  return { sent: next };
}

export interface OpenLoopOptions {
  /** Start offsets (ms from the start), non-decreasing. */
  offsets: readonly number[];
  /** Most requests in flight; a request that must wait for one to finish starts late. */
  maxInFlight: number;
  clock: Clock;
  send: (index: number, scheduledAt: number) => Promise<void>;
  stop?: () => boolean;
}

export interface OpenLoopResult {
  sent: number;
  /** How late each request started against its schedule (ms, >= 0). */
  lateness: LatencyHistogram;
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const start = o.clock.now();
  const lateness = new LatencyHistogram();
  const pending = new Set<Promise<void>>();
  let sent = 0;
  for (let i = 0; i < o.offsets.length && o.stop?.() !== true; i++) {
    const due = start + (o.offsets[i] ?? 0);
    const wait = due - o.clock.now();
    if (wait > 0) await o.clock.sleep(wait);
    while (pending.size >= o.maxInFlight) await Promise.race(pending);
    lateness.record(Math.max(0, o.clock.now() - due));
    const p: Promise<void> = o.send(i, due).finally(() => pending.delete(p));
    pending.add(p);
    sent++;
  }
  await Promise.all(pending);
  return { sent, lateness };
}
