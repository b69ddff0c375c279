/** Parses one raw option value (from a flag or env) according to its definition. */
import type { Echo } from "./echo.js";
import type { OptionDef } from "./schema.js";

export type ParseOutcome = { ok: true; value: string | number | boolean } | { ok: false; error: string };

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

export function parseBoolean(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return undefined;
}

/** Strict decimal integer; undefined for anything else (including unsafe integers). */
export function parseInteger(raw: string): number | undefined {
  const text = raw.trim();
  if (!/^[+-]?\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** `label` is how the user set it: "--port" or "PORT". */
export function parseOptionValue(def: OptionDef, raw: string, label: string, echo: Echo): ParseOutcome {
  const got = `got '${echo(raw)}'`;
  switch (def.kind) {
    case "int": {
      const value = parseInteger(raw);
      if (value === undefined || value < def.min || value > def.max) {
        return { ok: false, error: `${label} must be an integer from ${def.min} to ${def.max}, ${got}` };
      }
      return { ok: true, value };
    }
    case "bool": {
      const value = parseBoolean(raw);
      if (value === undefined) {
        return {
          ok: false,
          error: `${label} must be a boolean (${TRUE_WORDS.join(", ")} or ${FALSE_WORDS.join(", ")}), ${got}`,
        };
      }
      return { ok: true, value };
    }
    case "choice": {
      const value = raw.trim().toLowerCase();
      if (!def.choices.includes(value)) {
        return { ok: false, error: `${label} must be one of ${def.choices.join(", ")}, ${got}` };
      }
      return { ok: true, value };
    }
    case "string": {
      if (raw.length === 0) return { ok: false, error: `${label} must not be empty` };
      if (def.minLength !== undefined && raw.length < def.minLength) {
        // Never echo the value: this may be a secret.
        return { ok: false, error: `${label} must be at least ${def.minLength} characters long (got ${raw.length})` };
      }
      return { ok: true, value: raw };
    }
    case "path": {
      if (raw.trim().length === 0) return { ok: false, error: `${label} must not be empty` };
      return { ok: true, value: raw };
    }
  }
}
