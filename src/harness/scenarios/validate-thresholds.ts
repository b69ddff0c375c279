/** Reads load/thresholds.json: named default gates, per-scenario gate tables, validity limits, baseline policy. */
import { FieldChecker, describeValue, isObject } from "./field-checker.js";
import type { Json } from "./field-checker.js";
import { parseKnownGate } from "./metric-names.js";
import { DEFAULT_BASELINE_POLICY, DEFAULT_VALIDITY } from "./types.js";
import type { BaselinePolicy, GateTable, ThresholdsDef, ValidityLimits } from "./types.js";

export type ThresholdsResult = { ok: true; thresholds: ThresholdsDef } | { ok: false; errors: string[] };

const GATE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

function gateTable(c: FieldChecker, v: unknown, path: string, allowNull: boolean): GateTable {
  const table: GateTable = {};
  if (v === undefined) return table;
  if (!isObject(v)) {
    c.fail(path, `must be an object of gate-name: "expression", got ${describeValue(v)}`);
    return table;
  }
  for (const [name, expr] of Object.entries(v)) {
    if (name.startsWith("$")) continue;
    const at = `${path}.${name}`;
    if (!GATE_NAME.test(name)) c.fail(at, "gate names are lower-case letters, digits and '-', e.g. \"latency-spread\"");
    if (expr === null && allowNull) table[name] = null;
    else if (typeof expr !== "string") c.fail(at, `must be a gate expression string like "p95 < 2 * p50"${allowNull ? " (or null to drop a default)" : ""}, got ${describeValue(expr)}`);
    else {
      const parsed = parseKnownGate(expr);
      if (!parsed.ok) c.fail(at, parsed.problem);
      else table[name] = expr;
    }
  }
  return table;
}

function numbers<T extends object>(c: FieldChecker, v: unknown, path: string, defaults: T): T {
  if (v === undefined) return { ...defaults };
  if (!isObject(v)) {
    c.fail(path, `must be an object, got ${describeValue(v)}`);
    return { ...defaults };
  }
  const keys = Object.keys(defaults);
  c.unknownKeys(v, path, keys);
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = c.num(v, k, path, 0, 1e9, (defaults as Record<string, number>)[k]!);
  return out as T;
}

export function validateThresholds(raw: unknown, file: string): ThresholdsResult {
  const c = new FieldChecker(file);
  if (!isObject(raw)) return { ok: false, errors: [`${file}: $: thresholds must be a JSON object, got ${describeValue(raw)}`] };
  c.unknownKeys(raw, "$", ["defaults", "scenarios", "validity", "baseline"]);
  const defaults = gateTable(c, raw.defaults, "$.defaults", false) as Record<string, string>;
  const scenarios: Record<string, GateTable> = {};
  if (raw.scenarios !== undefined && !isObject(raw.scenarios)) c.fail("$.scenarios", `must be an object of scenario-name: {gates}, got ${describeValue(raw.scenarios)}`);
  for (const [name, table] of Object.entries(isObject(raw.scenarios) ? (raw.scenarios as Json) : {})) {
    if (name.startsWith("$")) continue;
    scenarios[name] = gateTable(c, table, `$.scenarios.${name}`, true);
  }
  const validity = numbers<ValidityLimits>(c, raw.validity, "$.validity", DEFAULT_VALIDITY);
  const baseline = numbers<BaselinePolicy>(c, raw.baseline, "$.baseline", DEFAULT_BASELINE_POLICY);
  return c.errors.length > 0 ? { ok: false, errors: c.errors } : { ok: true, thresholds: { defaults, scenarios, validity, baseline } };
}
