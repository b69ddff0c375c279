/**
 * The Prometheus side of the server's metrics: one fresh prom-client Registry per server instance
 * (never the global one), `gauntlet_` names in base units, `_total` on counters. docs/metrics.md
 * lists every metric with its vLLM and llama.cpp counterparts.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { OUTCOMES, type Outcome } from "./outcome.js";

export interface PoolGauges {
  slots: number;
  busy: number;
  waiting: number;
}

/** Live values read at scrape time. */
export interface GaugeSources {
  /** The slot pool's state; null while the model loads. */
  pool(): PoolGauges | null;
  /** Chat-completion requests being handled (queued or generating). */
  inFlight(): number;
  modelLoaded(): boolean;
  /** Reasons outside the metrics object to report degraded (model failed to load, breaker open). */
  degradedReasons(): readonly string[];
  /** The cache's circuit breaker and the memory guard, when the server has them. */
  resilience?(): ResilienceGauges | null;
  /** The response cache's size, read at scrape time (when absent, the last setEntries() values are shown). */
  cacheSize?(): { entries: number; bytes: number } | null;
}

export interface ResilienceGauges {
  breakerState: "closed" | "open" | "half-open" | null;
  /** Cumulative transitions per edge, e.g. {"closed->open": 1}. */
  breakerTransitions: Record<string, number>;
  memoryState: "ok" | "pressure" | "critical" | null;
  memoryClears: number;
  memoryRejections: number;
}

/**
 * One finished chat-completion request. Counts and E2E feed the metrics only for a success; queue
 * time and TTFT are not part of it: they are observed when they happen (observeQueueTime,
 * observeTimeToFirstToken), so requests that fail later still count in those histograms.
 */
export interface FinishedRequest {
  outcome: Outcome;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Prompt tokens reused from a slot's KV cache (usage.prompt_tokens_details.cached_tokens). */
  cachedPromptTokens: number | null;
  /** From the request's arrival to the end of its generation, in ms. */
  e2eMs: number | null;
}

/** The cache's reasons for a corrupt record (src/cache/record-codec.ts); anything else counts as "other". */
export const CORRUPTION_REASONS = [
  "truncated",
  "invalid-json",
  "invalid-utf8",
  "binary-garbage",
  "checksum-mismatch",
  "wrong-version",
  "wrong-fingerprint",
  "oversize",
  "key-mismatch",
  "io",
  "other",
] as const;

export const FINISH_REASONS = ["stop", "length"] as const;

export interface CacheMetrics {
  hit(): void;
  miss(): void;
  corruption(reason: string): void;
  recovered(): void;
  /** A disk operation of the response cache failed (or a step it survived, like a directory fsync). */
  ioError(op: string, code: string): void;
  setEntries(entries: number, bytes: number): void;
}

export interface PromMetrics {
  readonly registry: Registry;
  recordRequest(r: FinishedRequest): void;
  /** From a request's arrival to the moment a slot started it, in ms; once per request that got a slot. */
  observeQueueTime(ms: number): void;
  /** From a request's arrival to its first generated text, in ms; once per request that got that far. */
  observeTimeToFirstToken(ms: number): void;
  observeInterToken(ms: number): void;
  readonly cache: CacheMetrics;
  readonly retries: { inc(n?: number): void };
  readonly logWriteErrors: { inc(n?: number): void };
  setDegraded(degraded: boolean): void;
}

export interface PromMetricsOptions {
  sources: GaugeSources;
  /** prom-client's collectDefaultMetrics (process and Node.js runtime); default true. */
  processMetrics?: boolean;
}

const P = "gauntlet_";
export const TTFT_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160];
const SECONDS_ITL = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5];
const SECONDS_E2E = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960];
const SECONDS_QUEUE = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TOKENS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

/** Every gauntlet_ metric family, as it appears in # TYPE lines. */
export const METRIC_NAMES = [
  `${P}time_to_first_token_seconds`,
  `${P}inter_token_latency_seconds`,
  `${P}e2e_request_latency_seconds`,
  `${P}request_queue_time_seconds`,
  `${P}request_prompt_tokens`,
  `${P}request_generation_tokens`,
  `${P}prompt_tokens_total`,
  `${P}generation_tokens_total`,
  `${P}prompt_tokens_cached_total`,
  `${P}requests_total`,
  `${P}cache_hits_total`,
  `${P}cache_misses_total`,
  `${P}cache_corruptions_total`,
  `${P}cache_recoveries_total`,
  `${P}cache_io_errors_total`,
  `${P}retries_total`,
  `${P}log_write_errors_total`,
  `${P}requests_running`,
  `${P}requests_waiting`,
  `${P}slots_busy`,
  `${P}slots`,
  `${P}cache_entries`,
  `${P}cache_bytes`,
  `${P}degraded`,
  `${P}model_loaded`,
  `${P}cache_breaker_state`,
  `${P}memory_guard_state`,
  `${P}cache_breaker_transitions_total`,
  `${P}memory_guard_clears_total`,
  `${P}memory_guard_rejections_total`,
] as const;

/** prom-client's default collectors add gauges named *_total, which Prometheus reserves for counters. */
const NON_COUNTER_TOTALS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

const KNOWN_REASONS: ReadonlySet<string> = new Set(CORRUPTION_REASONS);
/** errno-style codes kept as label values; anything else is "other" (bounded label cardinality). */
const KNOWN_IO_CODES: ReadonlySet<string> = new Set([
  "EIO", "ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "ENOENT", "ENOTDIR", "EISDIR", "EMFILE", "ENFILE",
  "EBUSY", "EAGAIN", "ETIMEDOUT", "EFBIG", "EINVAL", "EUNAVAILABLE", "EUNKNOWN",
]);
const IO_OPS: ReadonlySet<string> = new Set(["open", "scan", "get", "put", "delete", "clear", "quarantine", "evict", "prune"]);

export function createPromMetrics(opts: PromMetricsOptions): PromMetrics {
  const registry = new Registry();
  const registers = [registry];
  const { sources } = opts;
  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name: P + name, help, buckets, registers });
  const counter = (name: string, help: string) => new Counter({ name: P + name, help, registers });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: P + name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });

  const ttft = histogram(
    "time_to_first_token_seconds",
    "Time from a request's arrival to its first generated token (or its cached answer), every request that got that far.",
    TTFT_BUCKETS_SECONDS,
  );
  const itl = histogram("inter_token_latency_seconds", "Time between consecutive generated tokens (text chunks) of one response.", SECONDS_ITL);
  const e2e = histogram("e2e_request_latency_seconds", "Time from a request's arrival to the end of its generation, successful requests.", SECONDS_E2E);
  const queue = histogram("request_queue_time_seconds", "Time from a request's arrival until a generation slot started it, every request that got a slot.", SECONDS_QUEUE);
  const promptHist = histogram("request_prompt_tokens", "Prompt tokens per successful request.", TOKENS);
  const genHist = histogram("request_generation_tokens", "Generated tokens per successful request.", TOKENS);
  const promptTokens = counter("prompt_tokens_total", "Prompt tokens processed by successful requests.");
  const genTokens = counter("generation_tokens_total", "Tokens generated by successful requests.");
  const cachedPromptTokens = counter(
    "prompt_tokens_cached_total",
    "Prompt tokens of successful requests reused from a slot's KV cache (prefix reuse) instead of being evaluated.",
  );
  const requests = new Counter({
    name: `${P}requests_total`,
    help: "Finished chat-completion requests by outcome and finish_reason (none unless the request succeeded).",
    labelNames: ["outcome", "finish_reason"] as const,
    registers,
  });
  for (const outcome of OUTCOMES) {
    if (outcome === "success") for (const f of FINISH_REASONS) requests.labels(outcome, f).inc(0);
    else requests.labels(outcome, "none").inc(0);
  }
  const hits = counter("cache_hits_total", "Cache lookups that found a usable entry.");
  const misses = counter("cache_misses_total", "Cache lookups that found nothing usable.");
  const corruptions = new Counter({
    name: `${P}cache_corruptions_total`,
    help: "Corrupt cache records detected, by reason.",
    labelNames: ["reason"] as const,
    registers,
  });
  for (const r of CORRUPTION_REASONS) corruptions.labels(r).inc(0);
  const ioErrors = new Counter({
    name: `${P}cache_io_errors_total`,
    help: "Response-cache disk operations that failed, by operation and errno code (survived ones included, e.g. a directory fsync).",
    labelNames: ["op", "code"] as const,
    registers,
  });
  const recoveries = counter("cache_recoveries_total", "Corrupt cache records recovered from (quarantined and served fresh).");
  const retries = counter("retries_total", "Retried engine operations.");
  const logWriteErrors = counter("log_write_errors_total", "Log lines the log destination failed to take (dropped, never fatal).");

  let degradedFlag = false;
  let cacheEntries = 0;
  let cacheBytes = 0;
  const waiting = () => sources.pool()?.waiting ?? 0;
  gauge("requests_running", "Chat-completion requests being handled and not waiting for a slot.", () => Math.max(0, sources.inFlight() - waiting()));
  gauge("requests_waiting", "Requests waiting in the queue for a generation slot.", waiting);
  gauge("slots_busy", "Generation slots in use.", () => sources.pool()?.busy ?? 0);
  gauge("slots", "Generation slots.", () => sources.pool()?.slots ?? 0);
  gauge("cache_entries", "Entries in the response cache.", () => sources.cacheSize?.()?.entries ?? cacheEntries);
  gauge("cache_bytes", "Bytes held by the response cache.", () => sources.cacheSize?.()?.bytes ?? cacheBytes);
  gauge("degraded", "1 while the server reports itself degraded, else 0.", () => (degradedFlag || sources.degradedReasons().length > 0 ? 1 : 0));
  gauge("model_loaded", "1 once the model is loaded, else 0.", () => (sources.modelLoaded() ? 1 : 0));

  // Circuit breaker and memory guard: enum-style state gauges, and counters fed from cumulative totals.
  const resilience = () => sources.resilience?.() ?? null;
  const enumGauge = (name: string, help: string, states: readonly string[], read: () => string | null) =>
    new Gauge({
      name: P + name,
      help,
      labelNames: ["state"] as const,
      registers,
      collect() {
        const now = read();
        for (const st of states) this.labels(st).set(now === st ? 1 : 0);
      },
    });
  enumGauge("cache_breaker_state", "The response cache's circuit breaker: 1 for its current state.", ["closed", "open", "half-open"], () => resilience()?.breakerState ?? null);
  enumGauge("memory_guard_state", "The memory guard: 1 for its current state (ok, pressure: caches cleared, critical: new requests refused).", ["ok", "pressure", "critical"], () => resilience()?.memoryState ?? null);
  const fromTotals = (name: string, help: string, labelName: string | null, read: () => Record<string, number>) => {
    const seen = new Map<string, number>();
    return new Counter({
      name: P + name,
      help,
      labelNames: labelName ? [labelName] : [],
      registers,
      collect() {
        for (const [k, total] of Object.entries(read())) {
          const delta = total - (seen.get(k) ?? 0);
          if (delta > 0) {
            if (labelName) this.labels(k).inc(delta);
            else this.inc(delta);
            seen.set(k, total);
          }
        }
      },
    });
  };
  const transitions = fromTotals("cache_breaker_transitions_total", "Circuit breaker transitions, by edge.", "edge", () => resilience()?.breakerTransitions ?? {});
  for (const edge of ["closed->open", "open->half-open", "half-open->closed", "half-open->open"]) transitions.labels(edge).inc(0);
  fromTotals("memory_guard_clears_total", "Times the memory guard cleared the caches.", null, () => ({ all: resilience()?.memoryClears ?? 0 }));
  fromTotals("memory_guard_rejections_total", "Requests refused (503) by the memory guard.", null, () => ({ all: resilience()?.memoryRejections ?? 0 }));

  if (opts.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(name);
  }

  const seconds = (ms: number | null) => (ms === null || !Number.isFinite(ms) || ms < 0 ? null : ms / 1000);
  const count = (n: number | null) => (n === null || !Number.isFinite(n) || n < 0 ? null : n);

  return {
    registry,
    recordRequest(r) {
      const finish = r.outcome === "success" && r.finishReason ? r.finishReason : "none";
      requests.labels(r.outcome, finish).inc();
      if (r.outcome !== "success") return;
      const e = seconds(r.e2eMs);
      if (e !== null) e2e.observe(e);
      const p = count(r.promptTokens);
      if (p !== null) {
        promptTokens.inc(p);
        promptHist.observe(p);
      }
      const g = count(r.completionTokens);
      if (g !== null) {
        genTokens.inc(g);
        genHist.observe(g);
      }
      const c = count(r.cachedPromptTokens);
      if (c !== null) cachedPromptTokens.inc(c);
    },
    observeQueueTime(ms) {
      const s = seconds(ms);
      if (s !== null) queue.observe(s);
    },
    observeTimeToFirstToken(ms) {
      const s = seconds(ms);
      if (s !== null) ttft.observe(s);
    },
    observeInterToken(ms) {
      const s = seconds(ms);
      if (s !== null) itl.observe(s);
    },
    cache: {
      hit: () => hits.inc(),
      miss: () => misses.inc(),
      corruption: (reason) => corruptions.labels(KNOWN_REASONS.has(reason) ? reason : "other").inc(),
      recovered: () => recoveries.inc(),
      ioError: (op, code) => ioErrors.labels(IO_OPS.has(op) ? op : "other", KNOWN_IO_CODES.has(code) ? code : "other").inc(),
      setEntries(entries, bytes) {
        cacheEntries = Math.max(0, entries);
        cacheBytes = Math.max(0, bytes);
      },
    },
    retries: { inc: (n = 1) => retries.inc(n) },
    logWriteErrors: { inc: (n = 1) => logWriteErrors.inc(n) },
    setDegraded(d) {
      degradedFlag = d;
    },
  };
}
