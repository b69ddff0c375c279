/**
 * `gauntlet gate`: the release gate. Boots the bundled server on the embedded model, runs the quick
 * scenarios (tagged "quick" in load/scenarios), writes the reports and exits 0 (green), 1 (red) or
 * 2 (invalid run or misuse).
 *
 * Extension point: `gateStages()` returns the stages run after the quick stress stage. A short
 * chaos check and a short soak plug in there as `Stage`s (src/harness/runner/stage.ts): each
 * contributes scenarios, gates and validity findings to the same report and exit code.
 */
import type { Stage } from "../harness/runner/stage.js";
import { selectScenarios } from "../harness/scenarios/index.js";
import { COMMON_HELP, parseHarnessArgs } from "./harness-args.js";
import { runHarnessCommand } from "./run-harness.js";
import type { HarnessIo } from "./run-harness.js";

export const QUICK_TAG = "quick";

export const GATE_HELP = `Usage: gauntlet gate [options]

The release gate: starts the bundled server on the embedded model, runs the quick scenarios
(tagged "${QUICK_TAG}" in load/scenarios) with their gates, writes reports/<timestamp>-gate/ and exits
0 when every gate passed. Meant as CI's main job: npx gauntlet gate (or npm run gate).

${COMMON_HELP}`;

/** Stages after the quick stress stage: add the short chaos and soak stages here. */
export function gateStages(): Stage[] {
  return [];
}

export async function runGateCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: HarnessIo): Promise<number> {
  const parsed = parseHarnessArgs(argv, ["gate", "baseline", "baseline-tolerance", "out", "load", "name", "max-loop-delay-ms", "max-lateness-ms", "help"]);
  if (!parsed.ok) {
    io.stderr(`gauntlet gate: ${parsed.error}\nRun 'gauntlet gate --help' for the options.`);
    return 2;
  }
  if (parsed.args.help) {
    io.stdout(GATE_HELP);
    return 0;
  }
  return runHarnessCommand({
    command: "gate", args: parsed.args, env, io,
    select: (defs) => selectScenarios(defs.scenarios, [], QUICK_TAG),
    extraStages: gateStages(),
  });
}
