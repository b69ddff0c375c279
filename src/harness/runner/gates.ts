/**
 * Which gates apply to a scenario and how they come out. Defaults (load/thresholds.json) apply to
 * every scenario; a scenario's own table adds gates, replaces a default of the same name, or
 * removes it with null; --gate expressions apply to every scenario. Ids are `<scenario>/<name>`.
 */
import { evaluateGate, parseGate } from "../gates/index.js";
import type { Gate } from "../gates/index.js";
import type { GateResult } from "../report/types.js";
import type { ThresholdsDef } from "../scenarios/types.js";
import type { Metrics } from "./scenario-metrics.js";

export interface GateSpec {
  id: string;
  scenario: string | null;
  gate: Gate;
}

export function gatesForScenario(scenario: string, thresholds: ThresholdsDef, extra: readonly Gate[] = []): GateSpec[] {
  const table: Record<string, string | null> = { ...thresholds.defaults, ...(thresholds.scenarios[scenario] ?? {}) };
  const specs: GateSpec[] = [];
  for (const [name, expression] of Object.entries(table)) {
    if (expression !== null) specs.push({ id: `${scenario}/${name}`, scenario, gate: parseGate(expression) });
  }
  extra.forEach((gate, i) => specs.push({ id: `${scenario}/cli-${i + 1}`, scenario, gate }));
  return specs;
}

export function evaluateSpecs(specs: readonly GateSpec[], metricsFor: (scenario: string | null) => Metrics): GateResult[] {
  return specs.map((s) => {
    const e = evaluateGate(s.gate, metricsFor(s.scenario));
    return { id: s.id, scenario: s.scenario, expression: s.gate.source, verdict: e.verdict, values: e.values, detail: e.detail };
  });
}
