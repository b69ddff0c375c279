/** `gauntlet soak` options, parsed and checked before anything runs (misuse is exit 2). */
import { parseArgs } from "node:util";
import { closestMatch } from "../../config/suggest.js";
import { parseDuration, parseRate } from "./duration.js";

export interface SoakArgs {
  resume: string | null;
  preset: string | null;
  durationMs: number | null;
  windowMs: number | null;
  /** undefined: from the profile; null: closed loop. */
  ratePerSecond: number | null | undefined;
  concurrency: number | null;
  target: string | null;
  gates: string[];
  out: string;
  load: string;
  name: string | null;
  help: boolean;
}

export type ParsedSoakArgs = { ok: true; args: SoakArgs } | { ok: false; error: string };

const OPTIONS = {
  duration: { type: "string" },
  preset: { type: "string" },
  rate: { type: "string" },
  concurrency: { type: "string" },
  window: { type: "string" },
  target: { type: "string" },
  gate: { type: "string", multiple: true },
  out: { type: "string" },
  load: { type: "string" },
  name: { type: "string" },
  resume: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseSoakArgs(argv: readonly string[]): ParsedSoakArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    const msg = (err as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg)?.[1];
    if (unknown) {
      const guess = closestMatch(unknown.replace(/^-+/, ""), Object.keys(OPTIONS));
      return { ok: false, error: `unknown option ${unknown}${guess ? ` (did you mean --${guess}?)` : ""}` };
    }
    const positional = /Unexpected argument '([^']+)'/.exec(msg)?.[1];
    if (positional) return { ok: false, error: `unexpected argument ${JSON.stringify(positional)}; options start with --` };
    return { ok: false, error: msg.replace(/\.$/, "").replace(/^Option '(.*?)' argument missing$/, "$1 needs a value") };
  }
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : null);
  const errors: string[] = [];
  const duration = (k: string): number | null => {
    const raw = str(k);
    if (raw === null) return null;
    const r = parseDuration(raw);
    if (!r.ok) errors.push(`--${k}: ${r.error}`);
    return r.ok ? r.ms : null;
  };
  const args: SoakArgs = {
    resume: str("resume"),
    preset: str("preset"),
    durationMs: duration("duration"),
    windowMs: duration("window"),
    ratePerSecond: undefined,
    concurrency: null,
    target: str("target"),
    gates: Array.isArray(values.gate) ? (values.gate as string[]) : [],
    out: str("out") ?? "reports",
    load: str("load") ?? "load",
    name: str("name"),
    help: values.help === true,
  };
  if (args.help) return { ok: true, args };
  const rate = str("rate");
  if (rate === "closed") args.ratePerSecond = null;
  else if (rate !== null) {
    const r = parseRate(rate);
    if (r.ok) args.ratePerSecond = r.perSecond;
    else errors.push(`--rate: ${r.error}, or "closed" for a closed loop`);
  }
  const conc = str("concurrency");
  if (conc !== null) {
    const n = Number(conc);
    if (Number.isInteger(n) && n >= 1 && n <= 256) args.concurrency = n;
    else errors.push(`--concurrency needs an integer from 1 to 256, got ${JSON.stringify(conc)}`);
  }
  if (args.resume !== null) {
    const others = Object.keys(values).filter((k) => k !== "resume" && k !== "help");
    if (others.length > 0) errors.push(`--resume continues a run with its own settings (from its journal); drop ${others.map((k) => `--${k}`).join(", ")}`);
    return errors.length > 0 ? { ok: false, error: errors.join("\n") } : { ok: true, args };
  }
  if (args.durationMs === null && args.preset === null && !errors.some((e) => e.startsWith("--duration"))) {
    errors.push("give --duration (e.g. 90s, 10m, 4h) or --preset (e.g. 2h or 4h from load/soak-profiles.json)");
  }
  if (args.durationMs !== null && args.windowMs !== null && args.windowMs > args.durationMs) errors.push("--window is longer than the run (--duration)");
  if (args.windowMs !== null && args.windowMs < 1000) errors.push("--window must be at least 1s");
  if (args.name !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(args.name)) {
    errors.push(`--name ${JSON.stringify(args.name)}: use letters, digits, '.', '_' and '-' (it becomes part of the report directory's name)`);
  }
  return errors.length > 0 ? { ok: false, error: errors.join("\n") } : { ok: true, args };
}

export const SOAK_HELP = `Usage: gauntlet soak (--duration DUR | --preset NAME) [options]
       gauntlet soak --resume RUN-DIR

Runs a steady mixed workload (streamed and plain, several prompt sizes, a share of repeated
temperature-0 requests the server answers from its cache, one canary per window) against the
bundled server or a loopback --target for hours, in constant memory. Every window goes to
RUN-DIR/journal.jsonl (checksummed, fsynced); the reports are rewritten after each window.
The verdict: memory growth after warm-up (Theil-Sen slope of the server's RSS with its interval,
projected over the whole run), failure rate, p95 < 2 x p50 per latency window, canary unchanged.

  --duration DUR       planned run time: 90s, 10m, 4h, 1h30m
  --preset NAME        a profile from load/soak-profiles.json: 2h, 4h (about 2 requests a minute), ci, gate
  --rate RATE          requests per second (10), per minute (2/min) or hour (120/h); "closed" for a closed loop
  --concurrency N      most requests in flight (closed loop: the number of clients)
  --window DUR         window length (default 60s)
  --target URL         an OpenAI-compatible server on this machine (127.0.0.1, ::1, localhost)
  --gate EXPR          an extra gate on the soak metrics, e.g. 'memory_growth_pct < 10' (repeatable)
  --out DIR            reports root (default reports): writes DIR/<timestamp>-<name>/ and DIR/latest
  --load DIR           where soak-profiles.json is (default load)
  --name NAME          run name used in the report directory (default soak)
  --resume RUN-DIR     continue an interrupted or crashed run (restarts the bundled server: a new
                       lifetime, judged on its own; a --target server continues its lifetime)
  -h, --help           this help

Ctrl-C or SIGTERM stops after the current window is journaled; a crash loses at most the window
in progress. 'gauntlet report RUN-DIR' rebuilds the report from the journal at any time.
Exit codes: 0 green, 1 red, 2 invalid (incomplete, too short or too noisy for a memory verdict,
the harness overloaded or sending late, the machine busy with other processes) or misuse.`;
