/** `gauntlet stress`: run scenarios against the bundled server or a loopback --target. */
import { selectScenarios } from "../harness/scenarios/index.js";
import { COMMON_HELP, parseHarnessArgs } from "./harness-args.js";
import { runHarnessCommand } from "./run-harness.js";
import type { HarnessIo } from "./run-harness.js";

export const STRESS_HELP = `Usage: gauntlet stress [--scenario NAME ...] [--target URL] [options]

Runs load scenarios (load/scenarios/*.json) with their gates (load/thresholds.json) and writes
reports/<timestamp>-<name>/. Without --target the bundled server is started as a child process
(node bin/gauntlet.js serve on a free 127.0.0.1 port, its own cache directory).

  --scenario NAME           run this scenario (repeatable; default: every scenario in the load directory)
  --target URL              an OpenAI-compatible server on this machine (127.0.0.1, ::1, localhost);
                            if it needs a key, set GAUNTLET_TARGET_API_KEY (sent as Authorization: Bearer)
${COMMON_HELP}`;

export async function runStressCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: HarnessIo): Promise<number> {
  const parsed = parseHarnessArgs(argv, ["scenario", "target", "gate", "baseline", "baseline-tolerance", "out", "load", "name", "max-loop-delay-ms", "max-lateness-ms", "help"]);
  if (!parsed.ok) {
    io.stderr(`gauntlet stress: ${parsed.error}\nRun 'gauntlet stress --help' for the options.`);
    return 2;
  }
  if (parsed.args.help) {
    io.stdout(STRESS_HELP);
    return 0;
  }
  return runHarnessCommand({
    command: "stress", args: parsed.args, env, io,
    select: (defs) => selectScenarios(defs.scenarios, parsed.args.scenarios),
  });
}
