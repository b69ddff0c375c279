/**
 * Client and server timings of one response, joined: the server's own `timings` (total_ms, ttft_ms)
 * measure a part of what the client measured, so the client's figure can never be smaller, and
 * should not be larger by more than the tolerance (network, parsing, the client's own delays).
 */
import type { ValidityLimits } from "../scenarios/types.js";

export interface TimingPair {
  what: "e2e" | "ttft";
  clientMs: number;
  serverMs: number;
}

export interface TimingMismatch extends TimingPair {
  kind: "client-below-server" | "gap-too-large";
  gapMs: number;
  allowedMs: number;
}

/** The server rounds to 0.001 ms. */
const ROUNDING_MS = 0.001;

export function reconcileTimings(pair: TimingPair, tol: Pick<ValidityLimits, "timingToleranceMs" | "timingTolerancePct">): TimingMismatch | null {
  const gapMs = pair.clientMs - pair.serverMs;
  const allowedMs = Math.max(tol.timingToleranceMs, (tol.timingTolerancePct / 100) * pair.clientMs);
  if (gapMs < -ROUNDING_MS) return { ...pair, kind: "client-below-server", gapMs, allowedMs };
  if (gapMs > allowedMs) return { ...pair, kind: "gap-too-large", gapMs, allowedMs };
  return null;
}

export function describeMismatch(m: TimingMismatch): string {
  const f = (v: number) => `${Math.round(v * 100) / 100} ms`;
  return m.kind === "client-below-server"
    ? `${m.what}: client measured ${f(m.clientMs)}, less than the server's own ${f(m.serverMs)}`
    : `${m.what}: client measured ${f(m.clientMs)}, ${f(m.gapMs)} more than the server's ${f(m.serverMs)} (allowed ${f(m.allowedMs)})`;
}
