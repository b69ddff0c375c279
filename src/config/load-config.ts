/**
 * loadConfig: flags > env > defaults, validated once against the schema, every problem collected
 * and reported together. Never throws for bad input.
 */
import { resolve } from "node:path";
import { parseArgv } from "./argv.js";
import { buildConfig, defaultValues } from "./build-config.js";
import type { ConfigFs } from "./config-fs.js";
import { nodeConfigFs } from "./config-fs.js";
import { makeEcho, redact } from "./echo.js";
import { deepFreeze } from "./freeze.js";
import { checkModelFile } from "./model-file.js";
import { optionList } from "./schema.js";
import type { OptionId, OptionValues } from "./schema.js";
import type { Config, ConfigWarning, DeepReadonly } from "./types.js";
import { parseOptionValue } from "./values.js";
import { collectWarnings } from "./warnings.js";
import type { Provenance } from "./warnings.js";

export type FrozenConfig = DeepReadonly<Config>;

export interface LoadConfigInput {
  /** Environment variables (e.g. process.env); empty values count as unset. */
  env: Readonly<Record<string, string | undefined>>;
  /** Arguments after the subcommand, e.g. ["--port", "9000", "--model=./m.gguf"]. */
  argv: readonly string[];
  /** File access for the model check; defaults to the real file system. */
  fs?: ConfigFs;
  /** Base for relative paths; defaults to process.cwd(). */
  cwd?: string;
}

interface WarningsField {
  /** Warning messages, ready to print. */
  warnings: string[];
  /** The same warnings with stable codes, in the same order. */
  warningDetails: ConfigWarning[];
}

export type ConfigResult =
  | ({ ok: true; config: FrozenConfig } & WarningsField)
  | ({ ok: false; errors: string[] } & WarningsField);

export function loadConfig(input: LoadConfigInput): ConfigResult {
  const cwd = input.cwd ?? process.cwd();
  const parsed = parseArgv(input.argv);
  const envValue = (name: string): string | undefined => {
    const value = input.env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const secret = parsed.values.get("apiKey")?.raw ?? envValue("API_KEY") ?? null;
  const echo = makeEcho(secret);
  const errors = parsed.errors.map((message) => message(echo));

  const values: Record<string, unknown> = { ...defaultValues() };
  const provenance: Provenance = { label: {}, failed: new Set() };
  for (const option of optionList()) {
    const fromFlag = parsed.values.get(option.id);
    if (parsed.touched.has(option.id) && fromFlag === undefined) {
      provenance.failed.add(option.id); // its flag error is already reported; env must not stand in
      continue;
    }
    const envRaw = envValue(option.env);
    const source = fromFlag ?? (envRaw === undefined ? undefined : { raw: envRaw, label: option.env });
    if (source === undefined) continue;
    provenance.label[option.id] = source.label;
    const outcome = parseOptionValue(option, source.raw, source.label, echo);
    if (outcome.ok) values[option.id] = outcome.value;
    else {
      errors.push(outcome.error);
      provenance.failed.add(option.id);
    }
  }
  // Every entry is either the schema default or a value parsed by that option's own definition.
  const v = values as OptionValues;

  const describe = (id: OptionId, flag: string): string => {
    const label = provenance.label[id];
    return label === undefined ? `${flag} (default ${String(v[id])})` : `${label} (${String(v[id])})`;
  };
  if (!provenance.failed.has("memoryClearPct") && !provenance.failed.has("memoryRejectPct")) {
    if (v.memoryRejectPct <= v.memoryClearPct) {
      errors.push(
        `${describe("memoryRejectPct", "--memory-reject-pct")} must be greater than ${describe("memoryClearPct", "--memory-clear-pct")}`,
      );
    }
  }

  let modelPath: string | null = null;
  if (v.model !== null && !provenance.failed.has("model")) {
    const checked = checkModelFile(v.model, cwd, input.fs ?? nodeConfigFs(), echo);
    if (checked.ok) modelPath = checked.path;
    else errors.push(checked.error);
  }

  const warningDetails = collectWarnings(v, provenance, parsed.repeated).map((w) => ({
    code: w.code,
    message: redact(w.message, secret),
  }));
  const warnings = warningDetails.map((w) => w.message);
  if (errors.length > 0) {
    return { ok: false, errors: errors.map((e) => redact(e, secret)), warnings, warningDetails };
  }
  const config = buildConfig(v, { modelPath, cacheDir: resolve(cwd, v.cacheDir) });
  return { ok: true, config: deepFreeze(config), warnings, warningDetails };
}
