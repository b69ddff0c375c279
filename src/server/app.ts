/**
 * buildServer(): the fastify app the binary runs and the tests drive. It never listens and never
 * reads the environment; main.ts does both.
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { createSlotPool, type SlotPool } from "../engine/slot-pool.js";
import type { Engine } from "../engine/types.js";
import { createInferenceService, type InferenceService } from "./inference.js";
import { registerAuth } from "./plugins/auth.js";
import { registerErrorHandler } from "./plugins/error-handler.js";
import { registerSessionId } from "./plugins/session.js";
import { registerChatRoute } from "./routes/chat.js";
import { registerHealthRoutes, type CacheHealth } from "./routes/health.js";
import { registerModelRoutes } from "./routes/models.js";
import { createRequestStats } from "./stats.js";

/** The part of the configuration the HTTP server needs (src/config's Config satisfies it). */
export interface ServerSettings {
  apiKey: string | null;
  slots: number;
  queueMax: number;
  timeoutMs: number;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  maxTokensLimit: number;
}

export interface BuildServerOptions {
  settings: ServerSettings;
  /** A loaded engine, or the promise of one: /health/ready answers 503 until it resolves. */
  engine: Engine | Promise<Engine>;
  /** Close the engine when the server closes (default true). */
  ownsEngine?: boolean;
  /** fastify/pino logger options; silent by default (tests). */
  logger?: FastifyServerOptions["logger"];
  /** Default max_tokens when a request gives none. */
  defaultMaxTokens?: number;
}

export async function buildServer(opts: BuildServerOptions): Promise<FastifyInstance> {
  const { settings } = opts;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: settings.bodyLimitBytes,
    disableRequestLogging: true,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  app.removeContentTypeParser(["text/plain"]);

  let engine: Engine | null = null;
  let pool: SlotPool | null = null;
  let inference: InferenceService | null = null;
  const attach = (e: Engine) => {
    engine = e;
    pool = createSlotPool({ slots: e.info().slots, queueMax: settings.queueMax });
    inference = createInferenceService({ engine: e, pool, timeoutMs: settings.timeoutMs });
  };
  let loadError: Error | null = null;
  if (opts.engine instanceof Promise) {
    opts.engine.then(attach, (err: unknown) => {
      loadError = err as Error;
    });
  } else {
    attach(opts.engine);
  }

  const stats = createRequestStats();
  const initialCache: CacheHealth = { tokens: 0, systemPromptHash: null, lastUpdated: null };
  const modelId = () => engine?.info().modelId ?? "loading";

  registerErrorHandler(app, settings.bodyLimitBytes);
  registerSessionId(app);
  registerAuth(app, settings.apiKey);
  registerHealthRoutes(app, {
    ready: () => engine !== null,
    stats,
    cache: () => initialCache,
    degradedReasons: () => (loadError ? ["the model failed to load"] : []),
  });
  registerModelRoutes(app, { modelId, createdAt: Math.floor(Date.now() / 1000) });
  registerChatRoute(app, {
    inference: () => inference,
    modelId,
    limits: { maxTokensLimit: settings.maxTokensLimit, defaultMaxTokens: opts.defaultMaxTokens ?? 256 },
    stats,
    bodyLimitBytes: settings.bodyLimitBytes,
  });

  app.addHook("onClose", async () => {
    const p = pool as SlotPool | null;
    if (p) {
      p.close();
      // Let in-flight generations finish, within a bound.
      await Promise.race([p.idle(), new Promise((r) => setTimeout(r, settings.shutdownTimeoutMs).unref())]);
    }
    const e = engine as Engine | null;
    if (e && opts.ownsEngine !== false) await e.close();
  });

  await app.ready();
  return app;
}
