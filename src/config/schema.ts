/**
 * The one table of options. It drives argv/env parsing, validation and the help text.
 * Order matters: help lists groups and options in table order.
 */

export type OptionGroup = "server" | "model" | "engine" | "limits" | "logging" | "cache" | "breaker" | "memory" | "retry";

export const GROUP_TITLES: Readonly<Record<OptionGroup, string>> = {
  server: "Server",
  model: "Model",
  engine: "Engine",
  limits: "Limits",
  logging: "Logging",
  cache: "Cache",
  breaker: "Circuit breaker",
  memory: "Memory",
  retry: "Retry",
};

interface BaseDef {
  /** Flag name without the leading "--". */
  readonly flag: string;
  readonly env: string;
  readonly group: OptionGroup;
  readonly description: string;
}

export interface IntDef extends BaseDef {
  readonly kind: "int";
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

export interface BoolDef extends BaseDef {
  readonly kind: "bool";
  readonly default: boolean;
}

export interface ChoiceDef extends BaseDef {
  readonly kind: "choice";
  readonly choices: readonly string[];
  readonly default: string;
}

export interface StringDef extends BaseDef {
  readonly kind: "string";
  readonly default: string | null;
  readonly placeholder: string;
  readonly minLength?: number;
  /** Never echoed in any message. */
  readonly secret?: boolean;
}

export interface PathDef extends BaseDef {
  readonly kind: "path";
  readonly default: string | null;
}

export type OptionDef = IntDef | BoolDef | ChoiceDef | StringDef | PathDef;

const MS_HOUR = 3_600_000;
const GIB_16 = 17_179_869_184;
const TIB = 1_099_511_627_776;

export const OPTIONS = {
  host: { kind: "string", flag: "host", env: "HOST", group: "server", default: "127.0.0.1", placeholder: "<host>", description: "Address to listen on (0.0.0.0 listens on every interface)." },
  port: { kind: "int", flag: "port", env: "PORT", group: "server", default: 8080, min: 1, max: 65535, description: "TCP port to listen on; below 1024 needs privileges." },
  apiKey: { kind: "string", flag: "api-key", env: "API_KEY", group: "server", default: null, placeholder: "<key>", minLength: 8, secret: true, description: "Require 'Authorization: Bearer <key>' on API routes (at least 8 characters; none = no auth)." },
  shutdownTimeoutMs: { kind: "int", flag: "shutdown-timeout-ms", env: "SHUTDOWN_TIMEOUT_MS", group: "server", default: 10_000, min: 0, max: MS_HOUR, description: "How long to let in-flight requests finish on shutdown." },
  model: { kind: "path", flag: "model", env: "MODEL_PATH", group: "model", default: null, description: "GGUF model file to serve; none = the embedded model." },
  modelPreset: { kind: "choice", flag: "model-preset", env: "MODEL_PRESET", group: "model", default: "tiny", choices: ["tiny", "small", "medium"], description: "Size of the embedded model, used only without --model." },
  cacheDir: { kind: "path", flag: "cache-dir", env: "CACHE_DIR", group: "model", default: ".gauntlet-cache", description: "Directory for on-disk data such as the embedded model, relative to the working directory." },
  slots: { kind: "int", flag: "slots", env: "SLOTS", group: "engine", default: 1, min: 1, max: 64, description: "Generations that run at once, each with its own context." },
  threads: { kind: "int", flag: "threads", env: "THREADS", group: "engine", default: 1, min: 1, max: 256, description: "CPU threads per generation; the prebuilt engine is fastest at 1." },
  contextSize: { kind: "int", flag: "context-size", env: "CONTEXT_SIZE", group: "engine", default: 2048, min: 128, max: 131_072, description: "Context window in tokens for each slot (prompt plus completion)." },
  gpu: { kind: "choice", flag: "gpu", env: "GPU", group: "engine", default: "false", choices: ["false", "auto", "cuda", "vulkan", "metal"], description: "GPU backend; false runs on the CPU only." },
  queueMax: { kind: "int", flag: "queue", env: "QUEUE_MAX", group: "limits", default: 64, min: 0, max: 10_000, description: "Requests that may wait for a free slot before new ones get 503 with Retry-After; 0 = no waiting." },
  timeoutMs: { kind: "int", flag: "timeout-ms", env: "REQUEST_TIMEOUT_MS", group: "limits", default: 60_000, min: 100, max: MS_HOUR, description: "Longest a request may take, queueing included." },
  bodyLimitBytes: { kind: "int", flag: "body-limit", env: "BODY_LIMIT_BYTES", group: "limits", default: 1_048_576, min: 1024, max: 67_108_864, description: "Largest request body in bytes." },
  maxTokensLimit: { kind: "int", flag: "max-tokens-limit", env: "MAX_TOKENS_LIMIT", group: "limits", default: 4096, min: 1, max: 131_072, description: "The largest max_tokens a request may ask for." },
  logLevel: { kind: "choice", flag: "log-level", env: "LOG_LEVEL", group: "logging", default: "info", choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], description: "Least severe log level written." },
  cacheEnabled: { kind: "bool", flag: "cache", env: "CACHE_ENABLED", group: "cache", default: true, description: "Cache responses to identical deterministic requests." },
  cacheMaxBytes: { kind: "int", flag: "cache-max-bytes", env: "CACHE_MAX_BYTES", group: "cache", default: 67_108_864, min: 0, max: GIB_16, description: "Memory the response cache may use, in bytes." },
  cacheDiskMaxBytes: { kind: "int", flag: "cache-disk-max-bytes", env: "CACHE_DISK_MAX_BYTES", group: "cache", default: 268_435_456, min: 65_536, max: TIB, description: "Disk space the response cache's records may use, in bytes; past it the least recently used are deleted." },
  cacheQuarantineMaxBytes: { kind: "int", flag: "cache-quarantine-max-bytes", env: "CACHE_QUARANTINE_MAX_BYTES", group: "cache", default: 16_777_216, min: 0, max: GIB_16, description: "Disk space for cache records that failed a check, kept for inspection (oldest deleted first), in bytes." },
  cacheIoTimeoutMs: { kind: "int", flag: "cache-io-timeout-ms", env: "CACHE_IO_TIMEOUT_MS", group: "cache", default: 1000, min: 10, max: 60_000, description: "Longest a response-cache disk read or write may take; past it the request goes on without the disk and it counts as a cache error." },
  breakerEnabled: { kind: "bool", flag: "breaker", env: "BREAKER_ENABLED", group: "breaker", default: true, description: "Stop using the response cache's disk after repeated cache errors, until trial operations succeed again." },
  breakerFailures: { kind: "int", flag: "breaker-failures", env: "BREAKER_FAILURE_THRESHOLD", group: "breaker", default: 5, min: 1, max: 1000, description: "Consecutive cache errors that open the breaker." },
  breakerSuccesses: { kind: "int", flag: "breaker-successes", env: "BREAKER_SUCCESS_THRESHOLD", group: "breaker", default: 10, min: 1, max: 1000, description: "Successful trial cache operations in a row that close it again." },
  breakerCooldownMs: { kind: "int", flag: "breaker-cooldown-ms", env: "BREAKER_COOLDOWN_MS", group: "breaker", default: 30_000, min: 100, max: MS_HOUR, description: "How long the breaker stays open before it lets a trial cache operation through." },
  memoryClearPct: { kind: "int", flag: "memory-clear-pct", env: "MEMORY_CLEAR_PCT", group: "memory", default: 90, min: 1, max: 100, description: "Memory use (percent of the cgroup or machine limit) at which the caches and prompt state are cleared." },
  memoryRejectPct: { kind: "int", flag: "memory-reject-pct", env: "MEMORY_REJECT_PCT", group: "memory", default: 95, min: 1, max: 100, description: "Memory use (percent) at which new requests get 503; must be above --memory-clear-pct." },
  memoryCheckMs: { kind: "int", flag: "memory-check-ms", env: "MEMORY_CHECK_MS", group: "memory", default: 1000, min: 100, max: 60_000, description: "How often memory use is checked." },
  retries: { kind: "int", flag: "retries", env: "ENGINE_RETRIES", group: "retry", default: 3, min: 0, max: 10, description: "Times a transient engine failure (a failed native decode, no free KV slot) is retried before the request fails; never once text was sent." },
  retryBaseMs: { kind: "int", flag: "retry-base-ms", env: "ENGINE_RETRY_BASE_MS", group: "retry", default: 100, min: 1, max: 60_000, description: "First retry delay; it doubles on each further retry." },
  retryJitterPct: { kind: "int", flag: "retry-jitter-pct", env: "ENGINE_RETRY_JITTER_PCT", group: "retry", default: 20, min: 0, max: 100, description: "Random spread of each retry delay, in percent either way (0 = exact delays)." },
} as const satisfies Record<string, OptionDef>;

export type OptionId = keyof typeof OPTIONS;

type ValueOf<D> = D extends { kind: "int" }
  ? number
  : D extends { kind: "bool" }
    ? boolean
    : D extends { kind: "choice"; choices: readonly (infer C)[] }
      ? C
      : D extends { default: null }
        ? string | null
        : string;

/** One parsed value per option, typed by its definition. */
export type OptionValues = { -readonly [K in OptionId]: ValueOf<(typeof OPTIONS)[K]> };

export type ListedOption = OptionDef & { readonly id: OptionId; readonly defaultText: string };

function defaultText(def: OptionDef): string {
  if (def.default === null) return "none";
  return String(def.default);
}

const LIST: readonly ListedOption[] = (Object.keys(OPTIONS) as OptionId[]).map((id) => {
  const def: OptionDef = OPTIONS[id];
  return Object.freeze({ ...def, id, defaultText: defaultText(def) });
});

/** Every option in table order, with its id and the default as help shows it. */
export function optionList(): readonly ListedOption[] {
  return LIST;
}

const BY_FLAG = new Map<string, ListedOption>(LIST.map((o) => [o.flag, o]));

export function optionByFlag(flag: string): ListedOption | undefined {
  return BY_FLAG.get(flag);
}

/** What a value must look like, for "needs a value (...)" messages; "" when nothing useful to add. */
export function expectation(def: OptionDef): string {
  switch (def.kind) {
    case "int":
      return `an integer from ${def.min} to ${def.max}`;
    case "choice":
      return `one of ${def.choices.join(", ")}`;
    case "bool":
      return "a boolean";
    case "path":
      return "a path";
    case "string":
      return "";
  }
}
