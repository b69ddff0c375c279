/** The validated server configuration. Built by loadConfig or defaultConfig; always deeply frozen. */

export type ModelPreset = "tiny" | "small" | "medium";
export type GpuMode = false | "auto" | "cuda" | "vulkan" | "metal";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface Config {
  host: string;
  port: number;
  /** Absolute path of a checked GGUF file, or null for the embedded model. */
  modelPath: string | null;
  /** Size of the embedded model; only used when modelPath is null. */
  modelPreset: ModelPreset;
  /** Absolute directory. Never print it. */
  cacheDir: string;
  /** Bearer key clients must send, or null for no auth. Never print it. */
  apiKey: string | null;
  slots: number;
  queueMax: number;
  threads: number;
  contextSize: number;
  gpu: GpuMode;
  timeoutMs: number;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  /** The largest max_tokens a request may ask for. */
  maxTokensLimit: number;
  cache: { enabled: boolean; maxBytes: number; quarantineMaxBytes: number; diskMaxBytes: number; ioTimeoutMs: number };
  breaker: { enabled: boolean; failureThreshold: number; successThreshold: number; cooldownMs: number };
  memory: { clearPct: number; rejectPct: number; checkMs: number };
  retry: { maxRetries: number; baseMs: number; jitterPct: number };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

/**
 * Stable identifiers for warnings, so callers can drop one they know does not apply
 * (e.g. the engine drops "threads-slow-prebuilt" when an optimized build is detected).
 */
export type ConfigWarningCode = "privileged-port" | "threads-slow-prebuilt" | "preset-ignored" | "repeated-flag";

export interface ConfigWarning {
  code: ConfigWarningCode;
  message: string;
}
