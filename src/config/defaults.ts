/** A valid, frozen Config for tests: schema defaults (embedded model) plus deep-partial overrides. */
import { resolve } from "node:path";
import { buildConfig, defaultValues } from "./build-config.js";
import { deepFreeze } from "./freeze.js";
import type { FrozenConfig } from "./load-config.js";
import type { Config, DeepPartial } from "./types.js";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function merge(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

/**
 * Overrides are not range-checked, so tests may use e.g. port 0 for an ephemeral port.
 * cacheDir defaults to ".gauntlet-cache" under the current working directory.
 */
export function defaultConfig(overrides: DeepPartial<Config> = {}): FrozenConfig {
  const base = buildConfig(defaultValues(), { modelPath: null, cacheDir: resolve(".gauntlet-cache") });
  // merge keeps base's shape; overrides are typed as a deep partial of that same shape.
  const merged = merge(base as unknown as Record<string, unknown>, overrides) as unknown as Config;
  return deepFreeze(merged);
}
