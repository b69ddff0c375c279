/** `gauntlet chaos`: the fault catalogue as a harness stage (for `gauntlet gate`) or a run of its own. */
export type { ChaosStageOptions, RunChaosOptions } from "./run-chaos.js";
export { CHAOS_LIMITS, chaosStage, runChaos } from "./run-chaos.js";
export { catalogueSteps } from "./catalogue.js";
export type { CaseResult, CaseSpec } from "./case-recorder.js";
