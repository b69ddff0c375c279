/** `gauntlet chaos`: the fault catalogue against the bundled server, as red/green gates in the usual reports. */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { closestMatch } from "../config/suggest.js";
import { catalogueSteps } from "../harness/chaos/catalogue.js";
import { chaosStage, runChaos } from "../harness/chaos/run-chaos.js";
import type { Stage } from "../harness/runner/stage.js";
import { createProgress } from "../harness/runner/progress.js";
import { printOutcome } from "./print-outcome.js";
import type { HarnessIo } from "./run-harness.js";

export const CHAOS_HELP = `Usage: gauntlet chaos [--quick] [--case NAME ...] [options]

Runs the chaos catalogue against the bundled server (node bin/gauntlet.js serve, a child process on
a free 127.0.0.1 port with the test-only GAUNTLET_DEBUG_ENGINE_FAULT=tagged switch): corrupted and
unreadable cache files (while it runs and while it is stopped), kill -9 under load and restart, a
full disk (a real one on a tmpfs when run as root, else injected) and an I/O error at every file
operation of a short run, an engine that throws, hangs, is stuck or slow, and misbehaving clients.
Every case is a scenario with gates (expected, correct, no-crash, detect, recover) in
reports/<timestamp>-<name>/ (report.json, report.md, junit.xml, report.html).

  --quick          the subset \`gauntlet gate\` runs (one server start and one restart)
  --case NAME      only this case, or every case named NAME-... (repeatable); see --list
  --list           print the catalogue (case, server group, quick or full only) and exit
  --no-tmpfs       never mount a tmpfs: the full disk is injected in process instead
  --seed N         seed of the corruption operations' random choices (default 1)
  --out DIR        reports root (default reports): writes DIR/<timestamp>-<name>/ and DIR/latest
  --name NAME      run name used in the report directory (default chaos or chaos-quick)
  -h, --help       this help

Exit codes: 0 every gate passed, 1 a gate failed, 2 the run was invalid or the command was misused.`;

export interface ChaosArgs {
  quick: boolean;
  cases: string[];
  out: string;
  name: string | null;
  seed: number;
  tmpfs: boolean;
  list: boolean;
  help: boolean;
}

const OPTIONS = {
  quick: { type: "boolean" },
  case: { type: "string", multiple: true },
  list: { type: "boolean" },
  "no-tmpfs": { type: "boolean" },
  seed: { type: "string" },
  out: { type: "string" },
  name: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseChaosArgs(argv: readonly string[]): { ok: true; args: ChaosArgs } | { ok: false; error: string } {
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
    if (positional) return { ok: false, error: `unexpected argument ${JSON.stringify(positional)}; pick cases with --case NAME` };
    return { ok: false, error: msg.replace(/\.$/, "") };
  }
  const seedRaw = typeof values.seed === "string" ? values.seed : "1";
  if (!/^\d{1,9}$/.test(seedRaw)) return { ok: false, error: `--seed needs an integer >= 0, got ${JSON.stringify(seedRaw)}` };
  const name = typeof values.name === "string" ? values.name : null;
  if (name !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    return { ok: false, error: `--name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (it becomes part of the report directory's name)` };
  }
  return {
    ok: true,
    args: {
      quick: values.quick === true,
      cases: Array.isArray(values.case) ? values.case : [],
      out: typeof values.out === "string" ? values.out : "reports",
      name,
      seed: Number(seedRaw),
      tmpfs: values["no-tmpfs"] !== true,
      list: values.list === true,
      help: values.help === true,
    },
  };
}

const repoFile = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

async function toolVersion(): Promise<string> {
  try {
    return (JSON.parse(await readFile(repoFile("package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** Every case: name, group and whether the quick subset has it. */
function listing(): { name: string; group: string; quick: boolean }[] {
  const quick = new Set(catalogueSteps(true).flatMap((g) => g.steps.flatMap((s) => s.cases.map((c) => c.name))));
  return catalogueSteps(false).flatMap((g) => g.steps.flatMap((s) => s.cases.map((c) => ({ name: c.name, group: g.group, quick: quick.has(c.name) }))));
}

function checkCases(wanted: readonly string[], quick: boolean): string | null {
  const all = listing();
  for (const w of wanted) {
    const matches = all.filter((c) => c.name === w || c.name.startsWith(`${w}-`));
    if (matches.length === 0) {
      const guess = closestMatch(w, all.map((c) => c.name));
      return `no chaos case is named ${JSON.stringify(w)} or starts with "${w}-"${guess ? ` (did you mean ${guess}?)` : ""}; see gauntlet chaos --list`;
    }
    if (quick && !matches.some((c) => c.quick)) return `${w} is not in the quick subset; run it without --quick`;
  }
  return null;
}

/**
 * The stage `gauntlet gate` adds after its stress stage: the quick subset (about a minute; one server start,
 * one kill -9 and restart, the in-process sweeps) against this checkout's bin/gauntlet.js, its cases in the
 * gate's report and exit code.
 */
export function chaosGateStage(env: Readonly<Record<string, string | undefined>>): Stage {
  return chaosStage({ quick: true, binPath: repoFile("bin/gauntlet.js"), parentEnv: env });
}

export async function runChaosCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: HarnessIo): Promise<number> {
  const parsed = parseChaosArgs(argv);
  if (!parsed.ok) {
    io.stderr(`gauntlet chaos: ${parsed.error}\nRun 'gauntlet chaos --help' for the options.`);
    return 2;
  }
  const a = parsed.args;
  if (a.help) {
    io.stdout(CHAOS_HELP);
    return 0;
  }
  if (a.list) {
    const rows = listing();
    const width = Math.max(...rows.map((r) => r.name.length)) + 2;
    for (const r of rows) io.stdout(`${r.name.padEnd(width)}${r.group.padEnd(12)}${r.quick ? "quick" : "full only"}`);
    return 0;
  }
  const problem = checkCases(a.cases, a.quick);
  if (problem) {
    io.stderr(`gauntlet chaos: ${problem}`);
    return 2;
  }
  const progress = createProgress(io.progress, io.isTTY);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    progress.line(`gauntlet chaos: ${signal} received: stopping after the current case, cleaning up, writing the report`);
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const outcome = await runChaos({
      quick: a.quick,
      binPath: repoFile("bin/gauntlet.js"),
      parentEnv: env,
      only: a.cases,
      tmpfs: a.tmpfs,
      seed: a.seed,
      outRoot: a.out,
      ...(a.name ? { name: a.name } : {}),
      toolVersion: await toolVersion(),
      cwd: process.cwd(),
      progress,
      signal: controller.signal,
      githubSummaryPath: env.GITHUB_STEP_SUMMARY || null,
    });
    progress.end();
    printOutcome(io, "chaos", outcome);
    return outcome.exitCode;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
