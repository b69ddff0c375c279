/**
 * Splits argv (the arguments after the subcommand) into raw option values.
 * Problems are returned as message builders so the caller can render them with an Echo
 * that already knows the secret to hide.
 */
import type { Echo } from "./echo.js";
import { expectation, optionByFlag, optionList } from "./schema.js";
import type { OptionId } from "./schema.js";
import { closestMatch } from "./suggest.js";

export interface RawFlagValue {
  raw: string;
  /** How messages name this source, e.g. "--port". */
  label: string;
}

export type Message = (echo: Echo) => string;

export interface ArgvParse {
  values: Map<OptionId, RawFlagValue>;
  /** Options a flag mentioned, even when its value was missing: env must not override these. */
  touched: Set<OptionId>;
  errors: Message[];
  /** Flags given more than once. */
  repeated: string[];
}

const HELP_POINTER = "(see gauntlet serve --help)";

function knownNames(): string[] {
  return optionList().flatMap((o) => (o.kind === "bool" ? [o.flag, `no-${o.flag}`] : [o.flag]));
}

function unknownOption(typed: string): Message {
  const suggestion = closestMatch(typed.replace(/^-+/, ""), knownNames());
  return (echo) => {
    const shown = echo(typed);
    return suggestion === undefined
      ? `unknown option ${shown} ${HELP_POINTER}`
      : `unknown option ${shown}; did you mean --${suggestion}? ${HELP_POINTER}`;
  };
}

function unexpected(token: string): Message {
  return (echo) => `unexpected argument '${echo(token)}'; serve takes only --options ${HELP_POINTER}`;
}

function isValueToken(token: string | undefined, allowSingleDash: boolean): token is string {
  if (token === undefined) return false;
  return allowSingleDash ? !token.startsWith("--") : !token.startsWith("-");
}

export function parseArgv(argv: readonly string[]): ArgvParse {
  const result: ArgvParse = { values: new Map(), touched: new Set(), errors: [], repeated: [] };
  const set = (id: OptionId, raw: string, label: string): void => {
    if (result.touched.has(id) && !result.repeated.includes(label)) result.repeated.push(label);
    result.touched.add(id);
    result.values.set(id, { raw, label });
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    const next = argv[i + 1];
    if (token === "--") {
      // End of options: whatever follows is positional, and serve takes none.
      for (const rest of argv.slice(i + 1)) result.errors.push(unexpected(rest));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      result.errors.push(unexpected(token));
      continue;
    }
    const eq = token.indexOf("=");
    const typed = eq === -1 ? token : token.slice(0, eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    const name = typed.startsWith("--") ? typed.slice(2) : undefined;
    const option = name === undefined ? undefined : optionByFlag(name);
    const negated = name?.startsWith("no-") === true ? optionByFlag(name.slice(3)) : undefined;

    if (option !== undefined && option.kind === "bool") {
      if (inline !== undefined) set(option.id, inline, typed);
      else if (isValueToken(next, false)) set(option.id, argv[++i] ?? "", typed);
      else set(option.id, "true", typed);
    } else if (option !== undefined) {
      let raw = inline;
      if (raw === undefined && isValueToken(next, true)) raw = argv[++i];
      if (raw === undefined || raw === "") {
        result.touched.add(option.id);
        const hint = expectation(option);
        result.errors.push(() => `${typed} needs a value${hint === "" ? "" : ` (${hint})`}`);
      } else {
        set(option.id, raw, typed);
      }
    } else if (negated !== undefined && negated.kind === "bool") {
      if (inline !== undefined) {
        result.touched.add(negated.id);
        result.errors.push(() => `${typed} takes no value; use --${negated.flag}=<boolean> or ${typed} alone`);
      } else {
        set(negated.id, "false", `--${negated.flag}`);
      }
    } else {
      result.errors.push(unknownOption(typed));
      // Swallow the unknown option's likely value: it may be a secret, and it is not a second problem.
      if (inline === undefined && isValueToken(next, false)) i++;
    }
  }
  return result;
}

/** Whether argv asks for help (--help or -h anywhere before a "--"). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const token of argv) {
    if (token === "--") return false;
    if (token === "--help" || token === "-h") return true;
  }
  return false;
}
