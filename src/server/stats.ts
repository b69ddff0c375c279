/** Request counters behind /health (the Prometheus metrics are a separate concern). */
export interface RequestStats {
  begin(): void;
  /** `failed`: the server's own failure (counts toward errorRate and consecutiveFailures); a client error or abort is neither ok nor failed. */
  end(outcome: { ok: boolean; failed?: boolean; latencyMs: number; cacheHit?: boolean }): void;
  snapshot(): {
    requestsInFlight: number;
    totalRequests: number;
    failedRequests: number;
    consecutiveFailures: number;
    avgLatencyMs: number;
    errorRate: number;
    cacheHitRate: number;
  };
}

/** Exponentially weighted averages keep /health cheap and bounded in memory. */
export function createRequestStats(alpha = 0.1): RequestStats {
  let inFlight = 0;
  let total = 0;
  let failed = 0;
  let consecutive = 0;
  let avgLatency = 0;
  let errorRate = 0;
  let hits = 0;
  let lookups = 0;
  return {
    begin() {
      inFlight++;
    },
    end({ ok, failed: fault = !ok, latencyMs, cacheHit }) {
      inFlight = Math.max(0, inFlight - 1);
      total++;
      if (fault) failed++;
      if (ok) consecutive = 0;
      else if (fault) consecutive++;
      avgLatency = total === 1 ? latencyMs : avgLatency + alpha * (latencyMs - avgLatency);
      errorRate = total === 1 ? (fault ? 1 : 0) : errorRate + alpha * ((fault ? 1 : 0) - errorRate);
      if (cacheHit !== undefined) {
        lookups++;
        if (cacheHit) hits++;
      }
    },
    snapshot() {
      return {
        requestsInFlight: inFlight,
        totalRequests: total,
        failedRequests: failed,
        consecutiveFailures: consecutive,
        avgLatencyMs: avgLatency,
        errorRate,
        cacheHitRate: lookups === 0 ? 0 : hits / lookups,
      };
    },
  };
}
