/**
 * buildServer(): the fastify app the binary runs and the tests drive. It never listens and never
 * reads the environment; main.ts does both.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import type { CacheFs } from "../cache/cache-fs.js";
import { createResponseCache, type ResponseCache } from "../cache/response-cache.js";
import { createRetryingEngine } from "../engine/retrying-engine.js";
import { createSlotPool, type SlotPool } from "../engine/slot-pool.js";
import { ApiError } from "../errors.js";
import { CircuitBreaker } from "../resilience/circuit-breaker.js";
import { createMemoryGuard, type MemoryGuard } from "../resilience/memory-guard.js";
import { readMemoryLimit } from "../resilience/memory-limit.js";
import { createCachingInference } from "./caching-inference.js";
import type { Engine } from "../engine/types.js";
import { createInferenceService, type InferenceService } from "./inference.js";
import { registerAuth } from "./plugins/auth.js";
import { registerErrorHandler } from "./plugins/error-handler.js";
import { registerSessionId } from "./plugins/session.js";
import { registerCacheRoutes, type PromptCacheState } from "./routes/cache.js";
import { registerChatRoute } from "./routes/chat.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerModelRoutes } from "./routes/models.js";
import { createRequestStats } from "./stats.js";
import type { LogLevel } from "../config/index.js";
import { createSafeDestination, type LogTarget } from "../observability/log-destination.js";
import { createLoggerOptions } from "../observability/logger.js";
import { createRequestContext } from "../observability/request-context.js";
import { registerRequestObserver } from "../observability/request-observer.js";
import { createServerMetrics, type ServerMetrics, type ServerMetricsOptions } from "../observability/server-metrics.js";
import { registerMetricsCors, registerMetricsRoutes } from "./routes/metrics.js";

/** The part of the configuration the HTTP server needs (src/config's Config satisfies it). */
export interface ServerSettings {
  apiKey: string | null;
  slots: number;
  queueMax: number;
  timeoutMs: number;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  maxTokensLimit: number;
  /** Response cache on disk under cacheDir/responses/<model>; absent: no response cache. */
  cacheDir?: string;
  cache?: { enabled: boolean; maxBytes: number; quarantineMaxBytes: number };
  breaker?: { enabled: boolean; failureThreshold: number; successThreshold: number; cooldownMs: number };
  memory?: { clearPct: number; rejectPct: number; checkMs: number };
  retry?: { maxRetries: number; baseMs: number };
}

/** Memory readings for the guard; injectable so tests can simulate pressure. */
export interface MemoryProbe {
  limitBytes?: number;
  readUsage?: () => number | Promise<number>;
}

export interface BuildServerOptions {
  settings: ServerSettings;
  /** A loaded engine, or the promise of one: /health/ready answers 503 until it resolves. */
  engine: Engine | Promise<Engine>;
  /** Close the engine when the server closes (default true). */
  ownsEngine?: boolean;
  /** Least severe level logged; "info" when only logStream is given; nothing is logged when neither is (tests). */
  logLevel?: LogLevel;
  /** Where JSON log lines go (default stdout). Its failures are counted, never fatal. */
  logStream?: LogTarget;
  /** Older spelling of logLevel + logStream: `{ level, stream }`, or true for info on stdout. */
  logger?: boolean | { level?: string; stream?: LogTarget };
  /** Metrics settings: sliding window, memory baseline, memory reader (tests inject a failing one). */
  metrics?: Omit<ServerMetricsOptions, "sources">;
  /** Default max_tokens when a request gives none. */
  defaultMaxTokens?: number;
  memoryProbe?: MemoryProbe;
  /** The response cache's file system (chaos runs inject ENOSPC/EIO through it). */
  cacheFs?: CacheFs;
  /**
   * TEST-ONLY leak switch (GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST): keeps this many KiB per chat request
   * forever, so soak runs can prove their leak verdict turns red. Off (0) by default.
   */
  debugLeakKbPerRequest?: number;
}

const LOG_LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const asLogLevel = (v: string | undefined): LogLevel | undefined => (v !== undefined && LOG_LEVELS.includes(v) ? (v as LogLevel) : undefined);

declare module "fastify" {
  interface FastifyInstance {
    /** This server's metrics: the typed API the cache and resilience layers report through. */
    metrics: ServerMetrics;
  }
}

export async function buildServer(opts: BuildServerOptions): Promise<FastifyInstance> {
  const { settings } = opts;
  // Sources are read lazily (at scrape time), once the variables below exist.
  const metrics = createServerMetrics({
    ...opts.metrics,
    sources: {
      pool: () => (pool as SlotPool | null)?.stats() ?? null,
      inFlight: () => stats.snapshot().requestsInFlight,
      modelLoaded: () => engine !== null,
      degradedReasons: () => degradedReasons(),
      resilience: () => ({
        breakerState: breaker && settings.breaker?.enabled ? breaker.state : null,
        breakerTransitions: breaker ? { ...breaker.stats.transitions } : {},
        memoryState: guard?.stats().state ?? null,
        memoryClears: guard?.stats().clears ?? 0,
        memoryRejections: guard?.stats().rejections ?? 0,
      }),
    },
  });
  const logContext = createRequestContext();
  const legacy = typeof opts.logger === "object" ? opts.logger : opts.logger === true ? { level: "info" } : null;
  const logStream = opts.logStream ?? legacy?.stream;
  const logLevel: LogLevel = opts.logLevel ?? asLogLevel(legacy?.level) ?? (logStream ? "info" : "silent");
  const logDestination =
    logLevel === "silent" ? null : createSafeDestination(logStream ?? process.stdout, { onFailure: () => metrics.logWriteFailed() });
  const app = Fastify({
    logger: logDestination ? createLoggerOptions({ level: logLevel, destination: logDestination, context: logContext }) : false,
    bodyLimit: settings.bodyLimitBytes,
    // fastify's own per-request lines are off: the request observer writes one summary line instead.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  app.removeContentTypeParser(["text/plain"]);
  app.decorate("metrics", metrics);
  // First hooks of all: every log line and every request (even one a later hook refuses) is covered.
  logContext.register(app);
  registerRequestObserver(app, { metrics, context: logContext, inferenceRoutes: ["/v1/chat/completions"] });

  let engine: Engine | null = null;
  let pool: SlotPool | null = null;
  let inference: InferenceService | null = null;
  let responses: ResponseCache | null = null;
  const breaker = settings.breaker
    ? new CircuitBreaker({
        enabled: settings.breaker.enabled,
        failureThreshold: settings.breaker.failureThreshold,
        successThreshold: settings.breaker.successThreshold,
        cooldownMs: settings.breaker.cooldownMs,
      })
    : null;
  const attach = (loaded: Engine) => {
    const e =
      settings.retry && settings.retry.maxRetries > 0
        ? createRetryingEngine(loaded, { retries: settings.retry.maxRetries, baseMs: settings.retry.baseMs, jitter: 0.2, onRetry: () => metrics.retries.inc() })
        : loaded;
    pool = createSlotPool({ slots: e.info().slots, queueMax: settings.queueMax });
    const direct = createInferenceService({
      engine: e,
      pool,
      timeoutMs: settings.timeoutMs,
      onInterToken: (ms) => metrics.observeInterToken(ms),
      log: app.log,
    });
    if (settings.cacheDir && settings.cache?.enabled) {
      const fingerprint = e.info().fingerprint;
      responses = createResponseCache({
        dir: join(settings.cacheDir, "responses", fingerprint.slice(0, 16)),
        fingerprint,
        maxBytes: settings.cache.maxBytes,
        quarantineMaxBytes: settings.cache.quarantineMaxBytes,
        ...(opts.cacheFs ? { fs: opts.cacheFs } : {}),
        breaker,
        events: {
          hit: () => metrics.cache.hit(),
          miss: () => metrics.cache.miss(),
          // One warning per bad record; the reason only (no file path, no cached text). A quarantined
          // record is also a recovery: the cache goes on and the answer is generated again.
          corruption: (reason) => {
            metrics.cache.corruption(reason);
            metrics.cache.recovered();
            app.log.warn({ reason }, "response cache: corrupt record quarantined");
          },
          ioError: (err) => app.log.warn({ code: err.code }, "response cache: disk operation failed"),
          stored: () => {
            const st = (responses as ResponseCache | null)?.stats();
            if (st) metrics.cache.setEntries(st.entries, st.bytes);
          },
        },
      });
      // Never awaited by requests: the scan runs in the background.
      const rc = responses;
      void rc
        .open()
        .then(() => rc.ready())
        .then(() => metrics.cache.setEntries(rc.stats().entries, rc.stats().bytes));
      inference = createCachingInference({ inner: direct, cache: responses, fingerprint });
    } else {
      inference = direct;
    }
    engine = e;
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
  const promptCache: PromptCacheState = { tokens: 0, systemPromptHash: null, lastUpdated: null };

  // Memory guard: above clearPct the caches are cleared; above rejectPct new requests get 503.
  let guard: MemoryGuard | null = null;
  if (settings.memory) {
    const limitBytes = opts.memoryProbe?.limitBytes ?? (await readMemoryLimit()).bytes;
    // Process RSS, not the cgroup's usage: page cache is reclaimable and would raise false alarms.
    const readUsage = opts.memoryProbe?.readUsage ?? (() => process.memoryUsage().rss);
    guard = createMemoryGuard({
      limitBytes,
      clearPct: settings.memory.clearPct,
      rejectPct: settings.memory.rejectPct,
      intervalMs: settings.memory.checkMs,
      readUsage,
      onClear: () => {
        (responses as ResponseCache | null)?.clearMemory();
      },
    });
    await guard.check();
    guard.start();
  }
  const leaked: Buffer[] = [];
  if (opts.debugLeakKbPerRequest && opts.debugLeakKbPerRequest > 0) {
    const kb = opts.debugLeakKbPerRequest;
    app.addHook("onResponse", async (request) => {
      // Filled, so the pages are really resident (RSS), not just reserved.
      if (request.url.startsWith("/v1/chat/completions")) leaked.push(Buffer.alloc(kb * 1024, 1));
    });
  }
  app.addHook("onRequest", async (request) => {
    if (guard && request.method === "POST" && request.url.startsWith("/v1/chat/completions") && guard.shouldReject()) {
      throw new ApiError("memory_pressure", "the server is low on memory and refuses new requests until it recovers; retry later", { retryAfterSeconds: 2 });
    }
  });
  const modelId = () => engine?.info().modelId ?? "loading";
  const degradedReasons = () => {
    const reasons: string[] = [];
    if (loadError) reasons.push("the model failed to load");
    if ((responses as ResponseCache | null)?.degraded()) reasons.push("the response cache is bypassed after repeated errors (circuit breaker open)");
    const mem = guard?.stats().state;
    if (mem && mem !== "ok") reasons.push(`memory ${mem}: ${Math.round(guard!.stats().lastUsagePct)}% of the limit in use`);
    return reasons;
  };

  registerErrorHandler(app, settings.bodyLimitBytes);
  registerSessionId(app);
  registerMetricsCors(app); // before auth: CORS preflights never carry the API key
  registerAuth(app, settings.apiKey);
  registerHealthRoutes(app, {
    ready: () => engine !== null,
    stats,
    cache: () => ({ tokens: promptCache.tokens, systemPromptHash: promptCache.systemPromptHash, lastUpdated: promptCache.lastUpdated }),
    degradedReasons,
  });
  registerMetricsRoutes(app, { metrics });
  registerCacheRoutes(app, { engine: () => engine, pool: () => pool, responses: () => responses, state: promptCache });
  registerModelRoutes(app, { modelId, createdAt: Math.floor(Date.now() / 1000) });
  registerChatRoute(app, {
    inference: () => inference,
    modelId,
    limits: { maxTokensLimit: settings.maxTokensLimit, defaultMaxTokens: opts.defaultMaxTokens ?? 256 },
    stats,
    bodyLimitBytes: settings.bodyLimitBytes,
  });

  app.addHook("onClose", async () => {
    guard?.stop();
    const p = pool as SlotPool | null;
    if (p) {
      p.close();
      // Let in-flight generations finish, within a bound.
      await Promise.race([p.idle(), new Promise((r) => setTimeout(r, settings.shutdownTimeoutMs).unref())]);
    }
    const e = engine as Engine | null;
    if (e && opts.ownsEngine !== false) await e.close();
    logDestination?.close();
  });

  await app.ready();
  return app;
}
