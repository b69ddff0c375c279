/**
 * GET /metrics: Prometheus text (open, like /health).
 * GET /v1/metrics: the same figures as JSON by default (?format=json|prometheus, ?category=a,b),
 * CORS-readable from any origin; other methods get 405 with an Allow header.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { ApiError } from "../../errors.js";
import { parseCategories, parseFormat } from "../../observability/json-query.js";
import type { ServerMetrics } from "../../observability/server-metrics.js";

export interface MetricsRouteDeps {
  metrics: ServerMetrics;
}

export const PROMETHEUS_PATH = "/metrics";
export const JSON_PATH = "/v1/metrics";
const WRITE_METHODS = ["POST", "PUT", "DELETE", "PATCH"];

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, x-request-id, x-session-id",
  "access-control-max-age": "600",
};

function preflight(reply: FastifyReply): FastifyReply {
  return reply.code(204).headers(CORS).send();
}

function notAllowed(path: string, allow: string) {
  return async (_request: unknown, reply: FastifyReply) => {
    reply.header("allow", allow);
    if (path === JSON_PATH) reply.header("access-control-allow-origin", "*");
    throw new ApiError("method_not_allowed", `${path} only answers ${allow}`);
  };
}

/**
 * Answers CORS preflights for /v1/metrics before any later onRequest hook (a browser's preflight
 * never carries the API key) and marks every /v1/metrics response, errors included, as readable
 * cross-origin. Register it before the auth hook.
 */
export function registerMetricsCors(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.url !== JSON_PATH) return;
    reply.header("access-control-allow-origin", "*");
    if (request.method === "OPTIONS") return preflight(reply);
  });
}

export function registerMetricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const { metrics } = deps;
  const prometheus = async (reply: FastifyReply) => reply.type(metrics.contentType).send(await metrics.prometheus());

  app.get(PROMETHEUS_PATH, async (_request, reply) => prometheus(reply));

  app.get<{ Querystring: Record<string, unknown> }>(JSON_PATH, async (request, reply) => {
    const format = parseFormat(request.query.format);
    if (!format.ok) throw new ApiError("invalid_request", format.message, { param: "format" });
    if (format.format === "prometheus") {
      if (request.query.category !== undefined) {
        throw new ApiError("invalid_request", "category only applies to format=json; the Prometheus text always holds every metric", { param: "category" });
      }
      return prometheus(reply);
    }
    const categories = parseCategories(request.query.category);
    if (!categories.ok) throw new ApiError("invalid_request", categories.message, { param: "category" });
    reply.header("cache-control", "no-store");
    return metrics.json(categories.categories);
  });

  app.options(JSON_PATH, async (_request, reply) => preflight(reply));

  app.route({ method: WRITE_METHODS, url: JSON_PATH, onRequest: notAllowed(JSON_PATH, "GET, HEAD, OPTIONS"), handler: async () => undefined });
  app.route({ method: WRITE_METHODS, url: PROMETHEUS_PATH, onRequest: notAllowed(PROMETHEUS_PATH, "GET, HEAD"), handler: async () => undefined });
}
