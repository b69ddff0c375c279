/**
 * buildServer(): the fastify app the binary runs and the tests drive. It never listens and never
 * reads the environment; main.ts does both.
 */
import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import type { CacheFs } from "../cache/cache-fs.js";
import type { ResponseCache } from "../cache/response-cache.js";
import { createRetryingEngine } from "../engine/retrying-engine.js";
import { createSlotPool, type SlotPool } from "../engine/slot-pool.js";
import { ApiError } from "../errors.js";
import { CircuitBreaker } from "../resilience/circuit-breaker.js";
import { createMemoryGuard, type MemoryGuard } from "../resilience/memory-guard.js";
import { readMemoryLimit } from "../resilience/memory-limit.js";
import { resilienceHealth, resilienceReasons, startServerResponseCache } from "./cache-wiring.js";
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
  cache?: { enabled: boolean; maxBytes: number; quarantineMaxBytes: number; diskMaxBytes?: number; ioTimeoutMs?: number };
  breaker?: { enabled: boolean; failureThreshold: number; successThreshold: number; cooldownMs: number };
  memory?: { clearPct: number; rejectPct: number; checkMs: number };
  retry?: { maxRetries: number; baseMs: number; jitterPct?: number };
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
      cacheSize: () => {
        const st = (responses as ResponseCache | null)?.stats();
        return st ? { entries: st.entries, bytes: st.bytes } : null;
      },
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
  // Shutdown: close() lets in-flight requests finish for up to shutdownTimeoutMs, then aborts what still runs.
  const shutdown = new AbortController();
  const attach = (loaded: Engine) => {
    const e =
      settings.retry && settings.retry.maxRetries > 0
        ? createRetryingEngine(loaded, {
            retries: settings.retry.maxRetries,
            baseMs: settings.retry.baseMs,
            jitter: (settings.retry.jitterPct ?? 20) / 100,
            onRetry: () => metrics.retries.inc(),
          })
        : loaded;
    pool = createSlotPool({ slots: e.info().slots, queueMax: settings.queueMax });
    const direct = createInferenceService({
      engine: e,
      pool,
      timeoutMs: settings.timeoutMs,
      shutdownSignal: shutdown.signal,
      onInterToken: (ms) => metrics.observeInterToken(ms),
      log: app.log,
    });
    if (settings.cacheDir && settings.cache?.enabled) {
      const fingerprint = e.info().fingerprint;
      responses = startServerResponseCache({ cacheDir: settings.cacheDir, settings: settings.cache, fingerprint, fs: opts.cacheFs, breaker, metrics, log: app.log });
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
  let memoryLimit: { bytes: number; source: string } | null = null;
  if (settings.memory) {
    // The process's own cgroup (v2 or v1, from /proc/self/cgroup), else the machine.
    memoryLimit = opts.memoryProbe?.limitBytes !== undefined ? { bytes: opts.memoryProbe.limitBytes, source: "probe" } : await readMemoryLimit();
    const limitBytes = memoryLimit.bytes;
    // Process RSS, not the cgroup's usage: page cache is reclaimable and would raise false alarms.
    const readUsage = opts.memoryProbe?.readUsage ?? (() => process.memoryUsage().rss);
    guard = createMemoryGuard({
      limitBytes,
      clearPct: settings.memory.clearPct,
      rejectPct: settings.memory.rejectPct,
      intervalMs: settings.memory.checkMs,
      readUsage,
      onClear: async () => {
        (responses as ResponseCache | null)?.clearMemory();
        // The prompt (KV) state the engine keeps for warmed system prompts goes too.
        const e = engine as Engine | null;
        if (e?.clearPromptState) {
          promptCache.tokens = 0;
          promptCache.systemPromptHash = null;
          promptCache.lastUpdated = Date.now();
          await e.clearPromptState();
        }
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
      if (request.routeOptions.url === "/v1/chat/completions") leaked.push(Buffer.alloc(kb * 1024, 1));
    });
  }
  app.addHook("onRequest", async (request) => {
    const url = request.routeOptions.url;
    if (guard && request.method === "POST" && (url === "/v1/chat/completions" || url === "/cache/warm") && guard.shouldReject()) {
      throw new ApiError("memory_pressure", "the server is low on memory and refuses new requests until it recovers; retry later", { retryAfterSeconds: 2 });
    }
  });
  const modelId = () => engine?.info().modelId ?? "loading";
  const degradedReasons = () => {
    const reasons: string[] = [];
    if (loadError) reasons.push("the model failed to load");
    reasons.push(...resilienceReasons(responses as ResponseCache | null, guard));
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
    details: () => resilienceHealth({ cache: responses as ResponseCache | null, breaker, guard, memoryLimit }),
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

  let closing = false;
  let shutdownTimer: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    closing = true;
    // Requests still waiting for a slot are refused now (503 shutting_down); running ones get the bound.
    (pool as SlotPool | null)?.close();
    shutdownTimer = setTimeout(() => {
      shutdown.abort();
      // Aborted generations answer within a token; then no connection may hold close() (keep-alive ones included).
      setTimeout(() => app.server.closeAllConnections(), 250).unref();
    }, settings.shutdownTimeoutMs);
    shutdownTimer.unref();
  });
  // While closing, every answer closes its connection, so an idle keep-alive client cannot hold close().
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  app.addHook("onClose", async () => {
    guard?.stop();
    const p = pool as SlotPool | null;
    if (p) {
      p.close();
      // In-flight generations finish or are aborted by the shutdown bound; the engine is freed after them.
      await Promise.race([p.idle(), new Promise((r) => setTimeout(r, settings.shutdownTimeoutMs + 2000).unref())]);
    }
    clearTimeout(shutdownTimer);
    shutdown.abort();
    // Answers still being written to the cache's disk land (within its I/O bound) before the engine goes.
    await (responses as ResponseCache | null)?.close();
    const e = engine as Engine | null;
    if (e && opts.ownsEngine !== false) await e.close();
    logDestination?.close();
  });

  await app.ready();
  return app;
}
