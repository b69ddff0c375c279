/** Command-line options shared by `gauntlet stress` and `gauntlet gate`, parsed and checked before anything runs. */
import { parseArgs } from "node:util";
import { closestMatch } from "../config/suggest.js";

export interface HarnessArgs {
  scenarios: string[];
  target: string | null;
  gates: string[];
  /** The first --baseline (null without one); `baselines` has them all, in order. */
  baseline: string | null;
  baselines: string[];
  baselineTolerancePct: number | null;
  out: string;
  load: string;
  name: string | null;
  maxLoopDelayMs: number | null;
  maxLatenessMs: number | null;
  help: boolean;
}

export type ParsedArgs = { ok: true; args: HarnessArgs } | { ok: false; error: string };

const OPTIONS = {
  scenario: { type: "string", multiple: true },
  target: { type: "string" },
  gate: { type: "string", multiple: true },
  baseline: { type: "string", multiple: true },
  "baseline-tolerance": { type: "string" },
  out: { type: "string" },
  load: { type: "string" },
  name: { type: "string" },
  "max-loop-delay-ms": { type: "string" },
  "max-lateness-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Flag = keyof typeof OPTIONS;

function number(raw: string | undefined, flag: string, errors: string[]): number | null {
  if (raw === undefined) return null;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || v < 0) {
    errors.push(`--${flag} needs a number >= 0, got ${JSON.stringify(raw)}`);
    return null;
  }
  return v;
}

/** `allowed` lists the flags this command takes; others are usage errors. */
export function parseHarnessArgs(argv: readonly string[], allowed: readonly Flag[]): ParsedArgs {
  const options = Object.fromEntries(allowed.map((f) => [f, OPTIONS[f]]));
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    const msg = (err as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg)?.[1];
    if (unknown) {
      const guess = closestMatch(unknown.replace(/^-+/, ""), allowed);
      return { ok: false, error: `unknown option ${unknown}${guess ? ` (did you mean --${guess}?)` : ""}` };
    }
    const positional = /Unexpected argument '([^']+)'/.exec(msg)?.[1];
    if (positional) return { ok: false, error: `unexpected argument ${JSON.stringify(positional)}; options start with --` };
    return { ok: false, error: msg.replace(/\.$/, "").replace(/^Option '(.*?)' argument missing$/, "$1 needs a value") };
  }
  const errors: string[] = [];
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : null);
  const list = (k: string) => (Array.isArray(values[k]) ? (values[k] as string[]) : []);
  const args: HarnessArgs = {
    scenarios: list("scenario"),
    target: str("target"),
    gates: list("gate"),
    baseline: list("baseline")[0] ?? null,
    baselines: list("baseline"),
    baselineTolerancePct: number(str("baseline-tolerance") ?? undefined, "baseline-tolerance", errors),
    out: str("out") ?? "reports",
    load: str("load") ?? "load",
    name: str("name"),
    maxLoopDelayMs: number(str("max-loop-delay-ms") ?? undefined, "max-loop-delay-ms", errors),
    maxLatenessMs: number(str("max-lateness-ms") ?? undefined, "max-lateness-ms", errors),
    help: values.help === true,
  };
  if (args.name !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(args.name)) {
    errors.push(`--name ${JSON.stringify(args.name)}: use letters, digits, '.', '_' and '-' (it becomes part of the report directory's name)`);
  }
  if (args.baselineTolerancePct !== null && args.baseline === null) errors.push("--baseline-tolerance needs --baseline <report.json>");
  return errors.length > 0 ? { ok: false, error: errors.join("\n") } : { ok: true, args };
}

export const COMMON_HELP = `  --gate EXPR               add a gate to every scenario, e.g. 'p99 < 3 * p50' (repeatable)
  --baseline FILE           compare with a stored report.json; regressions beyond the tolerance are gates.
                            Repeat it with several stored runs: they are compared as their median, and the
                            tolerance comes from their run-to-run spread (one run: its within-run noise only)
  --baseline-tolerance PCT  fixed tolerance instead of max(10%, 3 x the baselines' noise)
  --out DIR                 reports root (default reports): writes DIR/<timestamp>-<name>/ and DIR/latest
  --load DIR                scenario and threshold definitions (default load)
  --name NAME               run name used in the report directory
  --max-loop-delay-ms MS    harness event-loop delay p99 above which the run is INVALID (default from thresholds)
  --max-lateness-ms MS      open-loop send lateness p99 above which the run is INVALID (default from thresholds)
  -h, --help                this help

Exit codes: 0 every gate passed, 1 a gate failed, 2 the run was invalid or the command was misused.`;
