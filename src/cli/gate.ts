/**
 * `gauntlet gate`: the release gate. Boots the bundled server on the embedded model, runs the quick
 * scenarios (tagged "quick" in load/scenarios), writes the reports and exits 0 (green), 1 (red) or
 * 2 (invalid run or misuse).
 *
 * `gateStages()` returns the stages run after the quick stress stage: `chaos --quick` and a short soak,
 * each a `Stage` (src/harness/runner/stage.ts) contributing scenarios, gates and validity findings to the
 * same report and exit code.
 */
import { fileURLToPath } from "node:url";
import type { Stage } from "../harness/runner/stage.js";
import { selectScenarios } from "../harness/scenarios/index.js";
import { COMMON_HELP, parseHarnessArgs } from "./harness-args.js";
import { shortSoakStageFromLoadDir } from "../harness/soak-run/short-soak.js";
import { chaosGateStage } from "./chaos.js";
import { runHarnessCommand } from "./run-harness.js";
import type { HarnessIo } from "./run-harness.js";

export const QUICK_TAG = "quick";

const repoFile = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

export const GATE_HELP = `Usage: gauntlet gate [options]

The release gate: starts the bundled server on the embedded model, runs the quick scenarios
(tagged "${QUICK_TAG}" in load/scenarios) with their gates, then the quick chaos subset (gauntlet chaos
--quick) and a short soak (the "gate" profile of load/soak-profiles.json), writes one report to
reports/<timestamp>-gate/ and exits 0 when every gate passed. A few minutes on 2 cores. Meant as CI's
main job: npx gauntlet gate (or npm run gate).

${COMMON_HELP}`;

/** Stages after the quick stress stage: the quick chaos subset, then a short soak. */
export function gateStages(env: Readonly<Record<string, string | undefined>>, loadDir: string): Stage[] {
  return [chaosGateStage(env), shortSoakStageFromLoadDir({ loadDir, binPath: repoFile("bin/gauntlet.js"), parentEnv: env })];
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
    extraStages: gateStages(env, parsed.args.load),
  });
}
