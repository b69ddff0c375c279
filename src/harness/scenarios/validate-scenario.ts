/** Reads one scenario file's JSON into a ScenarioDef, reporting every problem at once. */
import { FieldChecker, describeValue, isObject } from "./field-checker.js";
import type { Json } from "./field-checker.js";
import type { ScenarioDef } from "./types.js";

export type ScenarioResult = { ok: true; scenario: ScenarioDef } | { ok: false; errors: string[] };

const FIELDS = [
  "name", "description", "tags", "requests", "durationMs", "connections", "rate", "arrival", "seed", "stream", "prompt",
  "system", "distinctPrompts", "maxTokens", "temperature", "check", "warmupRequests", "timeoutMs", "server",
] as const;

export const MAX_REFERENCE_REQUESTS = 1000;
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** How many distinct requests (prompt number, max_tokens) a scenario sends, i.e. how many references it needs. */
export function distinctRequestCount(s: Pick<ScenarioDef, "distinctPrompts" | "maxTokens" | "requests" | "warmupRequests">): number {
  const m = Math.max(1, s.maxTokens.length);
  const cycle = (s.distinctPrompts / gcd(s.distinctPrompts, m)) * m;
  return s.requests === null ? cycle : Math.min(cycle, s.requests + s.warmupRequests);
}

function maxTokens(c: FieldChecker, obj: Json): number[] {
  const v = obj.maxTokens;
  const list = typeof v === "number" ? [v] : v;
  if (Array.isArray(list) && list.length > 0 && list.every((n) => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 131_072)) {
    return list as number[];
  }
  c.fail("$.maxTokens", `must be an integer or a non-empty list of integers from 1 to 131072 (max_tokens, cycled by request), got ${describeValue(v)}`);
  return [1];
}

function server(c: FieldChecker, obj: Json): ScenarioDef["server"] {
  const v = obj.server;
  if (v === undefined) return { args: [], env: {} };
  if (!isObject(v)) {
    c.fail("$.server", `must be an object like {"args": ["--slots", "2"], "env": {}}, got ${describeValue(v)}`);
    return { args: [], env: {} };
  }
  c.unknownKeys(v, "$.server", ["args", "env"]);
  const env: Record<string, string> = {};
  if (v.env !== undefined && !isObject(v.env)) c.fail("$.server.env", `must be an object of NAME: "value" strings, got ${describeValue(v.env)}`);
  for (const [k, val] of Object.entries(isObject(v.env) ? v.env : {})) {
    if (!ENV_NAME.test(k)) c.fail(`$.server.env.${k}`, "environment variable names are upper-case letters, digits and '_'");
    else if (typeof val !== "string") c.fail(`$.server.env.${k}`, `must be a string, got ${describeValue(val)}`);
    else env[k] = val;
  }
  return { args: c.strings(v, "args", "$.server"), env };
}

/** `file` is the file name shown in messages; the scenario's name must equal it without ".json". */
export function validateScenario(raw: unknown, file: string): ScenarioResult {
  const c = new FieldChecker(file);
  if (!isObject(raw)) return { ok: false, errors: [`${file}: $: a scenario must be a JSON object, got ${describeValue(raw)}`] };
  c.unknownKeys(raw, "$", FIELDS);
  const name = c.str(raw, "name", "$");
  if (name !== "" && !NAME.test(name)) c.fail("$.name", `${JSON.stringify(name)}: use lower-case letters, digits and '-' (at most 64), e.g. "concurrent-10"`);
  const base = file.split(/[\\/]/).pop() ?? file;
  if (name !== "" && NAME.test(name) && base.endsWith(".json") && base !== `${name}.json`) {
    c.fail("$.name", `${JSON.stringify(name)} must match the file name ${JSON.stringify(base)}; rename one of them`);
  }
  const hasRequests = raw.requests !== undefined;
  const hasDuration = raw.durationMs !== undefined;
  if (hasRequests && hasDuration) c.fail("$", "give either requests or durationMs, not both");
  if (!hasRequests && !hasDuration) c.fail("$", "give requests (a count) or durationMs (a bounded run time in ms)");
  const rate = raw.rate === undefined || raw.rate === null ? null : c.num(raw, "rate", "$", 0.001, 100_000, 1);
  const temperature = c.num(raw, "temperature", "$", 0, 2, 0);
  const check = c.choice(raw, "check", "$", ["reference", "none"], "reference");
  if (check === "reference" && temperature !== 0) {
    c.fail("$.check", `"reference" needs temperature 0 (answers are compared exactly); set "check": "none" to run at temperature ${temperature}`);
  }
  const prompt = c.str(raw, "prompt", "$");
  const distinctPrompts = c.int(raw, "distinctPrompts", "$", 1, 100_000, 1);
  if (distinctPrompts > 1 && prompt !== "" && !prompt.includes("{i}")) {
    c.fail("$.prompt", `must contain {i} (the prompt number) when distinctPrompts is ${distinctPrompts}, or set distinctPrompts to 1`);
  }
  const scenario: ScenarioDef = {
    name,
    description: c.str(raw, "description", "$"),
    tags: c.strings(raw, "tags", "$"),
    requests: hasRequests ? c.int(raw, "requests", "$", 1, 100_000) : null,
    durationMs: hasDuration ? c.int(raw, "durationMs", "$", 100, 3_600_000) : null,
    connections: c.int(raw, "connections", "$", 1, 1000),
    rate,
    arrival: c.choice(raw, "arrival", "$", ["constant", "poisson"], "constant"),
    seed: c.int(raw, "seed", "$", 0, 2 ** 31 - 1, 1),
    stream: c.bool(raw, "stream", "$", false),
    prompt,
    system: raw.system === undefined ? null : c.str(raw, "system", "$"),
    distinctPrompts,
    maxTokens: maxTokens(c, raw),
    temperature,
    check,
    warmupRequests: c.int(raw, "warmupRequests", "$", 0, 10_000, 0),
    timeoutMs: c.int(raw, "timeoutMs", "$", 100, 3_600_000, 60_000),
    server: server(c, raw),
  };
  if (check === "reference" && c.errors.length === 0) {
    const needed = distinctRequestCount(scenario);
    if (needed > MAX_REFERENCE_REQUESTS) {
      c.fail("$", `needs ${needed} reference requests; at most ${MAX_REFERENCE_REQUESTS}: lower distinctPrompts or use fewer max_tokens values`);
    }
  }
  return c.errors.length > 0 ? { ok: false, errors: c.errors } : { ok: true, scenario };
}
