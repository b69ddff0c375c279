/** Optional API key for /v1/* and /cache: `Authorization: Bearer <key>`, compared in constant time. */
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

export function registerAuth(app: FastifyInstance, apiKey: string | null): void {
  if (!apiKey) return;
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith("/v1/") && !request.url.startsWith("/cache")) return;
    if (!keyMatches(apiKey, request.headers.authorization)) {
      throw new ApiError("invalid_api_key", "missing or wrong API key: send the header 'Authorization: Bearer <key>'");
    }
  });
}
