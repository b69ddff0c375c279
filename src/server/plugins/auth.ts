/** Optional API key for every route but /health, /health/ready and /metrics: `Authorization: Bearer <key>`, compared in constant time. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../../errors.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function keyMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  // Compare fixed-length digests so neither length nor content leaks through timing.
  const given = digest(m?.[1]?.trim() ?? "");
  return timingSafeEqual(given, digest(expected)) && m !== null;
}

/** Routes anyone may call: liveness, readiness and the Prometheus scrape. */
const OPEN_ROUTES = new Set(["/health", "/health/ready", "/metrics"]);

/**
 * Whether a request needs the key, from the route the router matched (never the raw URL: the router decodes
 * percent-escapes, so `/%761/models` matches `/v1/models`). Unknown paths need it too, so the key-less learn
 * nothing about what exists; CORS preflights carry no credentials by design and are let through.
 */
export function needsKey(routeUrl: string | undefined, method: string): boolean {
  if (routeUrl !== undefined && OPEN_ROUTES.has(routeUrl)) return false;
  if (method === "OPTIONS" && routeUrl !== undefined) return false;
  return true;
}

export function registerAuth(app: FastifyInstance, apiKey: string | null): void {
  if (!apiKey) return;
  app.addHook("onRequest", async (request) => {
    if (!needsKey(request.routeOptions.url, request.method)) return;
    if (!keyMatches(apiKey, request.headers.authorization)) {
      throw new ApiError("invalid_api_key", "missing or wrong API key: send the header 'Authorization: Bearer <key>'");
    }
  });
}
