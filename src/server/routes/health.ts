/** GET /health (liveness with details) and GET /health/ready (503 until the model is loaded). */
import type { FastifyInstance } from "fastify";
import type { RequestStats } from "../stats.js";

export interface CacheHealth {
  tokens: number;
  systemPromptHash: string | null;
  lastUpdated: number | null;
}

export interface HealthDeps {
  ready: () => boolean;
  stats: RequestStats;
  /** The system-prompt cache's state; its initial values until a cache is wired in. */
  cache: () => CacheHealth;
  /** Extra reasons to report "degraded" (an open circuit breaker, memory pressure). */
  degradedReasons?: () => string[];
  /** Extra sections of the body (response cache, circuit breaker, memory guard state). */
  details?: () => Record<string, unknown>;
}

export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get("/health", async (_request, reply) => {
    const s = deps.stats.snapshot();
    const reasons = [...(deps.degradedReasons?.() ?? [])];
    if (s.consecutiveFailures >= 3) reasons.push(`${s.consecutiveFailures} consecutive failed requests`);
    const status = !deps.ready() ? "unhealthy" : reasons.length > 0 ? "degraded" : "healthy";
    reply.code(status === "unhealthy" ? 503 : 200);
    return {
      status,
      reasons,
      health: {
        lastCheck: new Date().toISOString(),
        consecutiveFailures: s.consecutiveFailures,
        avgResponseTime: Math.round(s.avgLatencyMs * 100) / 100,
        errorRate: Math.round(s.errorRate * 10000) / 10000,
      },
      cache: deps.cache(),
      ...deps.details?.(),
      metrics: {
        requestsInFlight: s.requestsInFlight,
        totalRequests: s.totalRequests,
        cacheHitRate: s.cacheHitRate,
        avgLatency: Math.round(s.avgLatencyMs * 100) / 100,
      },
    };
  });
  app.get("/health/ready", async (_request, reply) => {
    const ready = deps.ready();
    reply.code(ready ? 200 : 503);
    return { ready };
  });
}
