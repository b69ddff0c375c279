/** Non-fatal configuration advice, each with a stable code. */
import type { OptionId, OptionValues } from "./schema.js";
import type { ConfigWarning } from "./types.js";

export const WARNING_CODES = {
  privilegedPort: "privileged-port",
  threadsSlowPrebuilt: "threads-slow-prebuilt",
  presetIgnored: "preset-ignored",
  repeatedFlag: "repeated-flag",
} as const;

/** Where each option's value came from, for messages. */
export interface Provenance {
  /** "--port" or "PORT" when the user set it; absent when the default applies. */
  label: Partial<Record<OptionId, string>>;
  /** Options whose value failed validation (their value in OptionValues is the default). */
  failed: Set<OptionId>;
}

export function collectWarnings(v: OptionValues, provenance: Provenance, repeatedFlags: readonly string[]): ConfigWarning[] {
  const warnings: ConfigWarning[] = repeatedFlags.map((flag) => ({
    code: WARNING_CODES.repeatedFlag,
    message: `${flag} was given more than once; using the last value`,
  }));
  const ok = (id: keyof OptionValues): boolean => !provenance.failed.has(id);

  if (ok("port") && v.port < 1024) {
    warnings.push({
      code: WARNING_CODES.privilegedPort,
      message: `port ${v.port} is privileged (below 1024); listening may need root or CAP_NET_BIND_SERVICE, or use --port 8080`,
    });
  }
  if (ok("threads") && v.threads > 1) {
    const label = provenance.label.threads ?? "--threads";
    const setting = label.startsWith("--") ? `${label} ${v.threads}` : `${label}=${v.threads}`;
    warnings.push({
      code: WARNING_CODES.threadsSlowPrebuilt,
      message: `${setting}: the prebuilt engine slows down sharply above 1 thread per slot; keep --threads 1 and raise --slots instead, unless you run an optimized local build`,
    });
  }
  const modelLabel = provenance.label.model;
  const presetLabel = provenance.label.modelPreset;
  if (modelLabel !== undefined && presetLabel !== undefined && v.model !== null) {
    warnings.push({
      code: WARNING_CODES.presetIgnored,
      message: `${presetLabel} is ignored because ${modelLabel} is set (the preset only sizes the embedded model)`,
    });
  }
  return warnings;
}
