/** The `gauntlet` command: one file per subcommand; this one only dispatches. */
import { sanitizeMessage } from "../observability/sanitize.js";
import { runServe } from "../server/main.js";
import { runChaosCommand } from "./chaos.js";
import { runEngineCommand } from "./engine.js";
import { runGateCommand } from "./gate.js";
import { runReportCommand } from "./report.js";
import { runSoakCommand } from "./soak.js";
import { runStressCommand } from "./stress.js";

const USAGE = `Usage: gauntlet <command> [options]

Commands:
  serve     serve the OpenAI-compatible API (embedded tiny model by default)
  engine    build the optimized engine for this CPU (engine build) or show the engine in use (engine status)
  gate      the release gate: quick scenarios on the bundled server; exit 0 green, 1 red, 2 invalid
  stress    run load scenarios against the bundled server or a loopback --target
  soak      hours of steady mixed load with a memory-leak verdict; resumable (--resume RUN-DIR)
  chaos     run the fault catalogue (corrupt cache, kill -9, full disk, engine and client faults) against the bundled server
  report    re-render a run directory's report.md, junit.xml and report.html from its report.json

Run 'gauntlet <command> --help' for a command's options.`;

/** Commands whose exit code is a verdict: 0 green, 1 red, 2 invalid run or usage error. */
const HARNESS_COMMANDS = new Set(["gate", "stress", "soak", "chaos", "report"]);

const io = {
  stdout: (line: string) => process.stdout.write(`${line}\n`),
  stderr: (line: string) => process.stderr.write(`${line}\n`),
};

const harnessIo = {
  ...io,
  progress: (text: string) => process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest, process.env, io);
    case "engine":
      return runEngineCommand(rest, io);
    case "stress":
      return runStressCommand(rest, process.env, harnessIo);
    case "gate":
      return runGateCommand(rest, process.env, harnessIo);
    case "chaos":
      return runChaosCommand(rest, process.env, harnessIo);
    case "soak":
      return runSoakCommand(rest, process.env, harnessIo);
    case "report":
      return runReportCommand(rest, io);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`gauntlet: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Native handles (the engine) may keep the loop alive after a clean close.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`gauntlet: fatal: ${sanitizeMessage(String((err as Error)?.message ?? err))}\n`);
    // A harness command that crashed measured nothing trustworthy: invalid (2), never a red verdict (1).
    process.exit(HARNESS_COMMANDS.has(process.argv[2] ?? "") ? 2 : 1);
  },
);
