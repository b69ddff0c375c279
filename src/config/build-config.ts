/** Maps parsed option values (one per schema entry) onto the nested Config shape. */
import { optionList } from "./schema.js";
import type { OptionValues } from "./schema.js";
import type { Config } from "./types.js";

export interface ResolvedPaths {
  /** Absolute model path, or null for the embedded model. */
  modelPath: string | null;
  /** Absolute cache directory. */
  cacheDir: string;
}

export function buildConfig(v: OptionValues, paths: ResolvedPaths): Config {
  return {
    host: v.host,
    port: v.port,
    modelPath: paths.modelPath,
    modelPreset: v.modelPreset,
    cacheDir: paths.cacheDir,
    apiKey: v.apiKey,
    slots: v.slots,
    queueMax: v.queueMax,
    threads: v.threads,
    contextSize: v.contextSize,
    gpu: v.gpu === "false" ? false : v.gpu,
    timeoutMs: v.timeoutMs,
    shutdownTimeoutMs: v.shutdownTimeoutMs,
    logLevel: v.logLevel,
    bodyLimitBytes: v.bodyLimitBytes,
    maxTokensLimit: v.maxTokensLimit,
    cache: {
      enabled: v.cacheEnabled,
      maxBytes: v.cacheMaxBytes,
      quarantineMaxBytes: v.cacheQuarantineMaxBytes,
      diskMaxBytes: v.cacheDiskMaxBytes,
      ioTimeoutMs: v.cacheIoTimeoutMs,
    },
    breaker: {
      enabled: v.breakerEnabled,
      failureThreshold: v.breakerFailures,
      successThreshold: v.breakerSuccesses,
      cooldownMs: v.breakerCooldownMs,
    },
    memory: { clearPct: v.memoryClearPct, rejectPct: v.memoryRejectPct, checkMs: v.memoryCheckMs },
    retry: { maxRetries: v.retries, baseMs: v.retryBaseMs, jitterPct: v.retryJitterPct },
  };
}

/** Every option at its schema default (read from the schema table, never restated). */
export function defaultValues(): OptionValues {
  return Object.fromEntries(optionList().map((o) => [o.id, o.default])) as OptionValues;
}
