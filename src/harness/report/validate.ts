/**
 * Hand-written validator for RunReport (docs/report.schema.json), no dependencies.
 * Returns one "path: problem" string per problem; an empty array means valid.
 * Beyond the schema it checks consistency: ordered percentiles, request counts that add up,
 * gates naming existing scenarios, and a verdict that agrees with the gates.
 */

type Obj = Record<string, unknown>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const SUMMARY_ORDER = ["min", "p50", "p90", "p95", "p99", "p999", "max"] as const;
const SUMMARY_KEYS = ["count", "min", "max", "mean", "stddev", "p50", "p90", "p95", "p99", "p999"] as const;

class Checker {
  readonly errors: string[] = [];
  err(path: string, msg: string): void { this.errors.push(`${path}: ${msg}`); }

  obj(v: unknown, path: string): Obj | null {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Obj;
    this.err(path, v === undefined ? "is required" : "expected an object");
    return null;
  }
  arr(v: unknown, path: string): unknown[] | null {
    if (Array.isArray(v)) return v;
    this.err(path, v === undefined ? "is required" : "expected an array");
    return null;
  }
  str(v: unknown, path: string, nonEmpty = false): v is string {
    if (typeof v === "string" && (!nonEmpty || v.length > 0)) return true;
    this.err(path, v === undefined ? "is required" : nonEmpty ? "expected a non-empty string" : "expected a string");
    return false;
  }
  num(v: unknown, path: string, opts: { min?: number; max?: number; int?: boolean; nullable?: boolean } = {}): boolean {
    if (v === null && opts.nullable) return true;
    const ok = typeof v === "number" && Number.isFinite(v) && (!opts.int || Number.isInteger(v))
      && (opts.min === undefined || v >= opts.min) && (opts.max === undefined || v <= opts.max);
    if (!ok) {
      const range = [opts.min !== undefined ? `>= ${opts.min}` : "", opts.max !== undefined ? `<= ${opts.max}` : ""].filter(Boolean).join(" and ");
      this.err(path, v === undefined ? "is required" : `expected ${opts.nullable ? "null or " : ""}a finite ${opts.int ? "integer" : "number"}${range ? ` ${range}` : ""}`);
    }
    return ok;
  }
  oneOf(v: unknown, allowed: readonly unknown[], path: string): boolean {
    if (allowed.includes(v)) return true;
    this.err(path, v === undefined ? "is required" : `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(v)}`);
    return false;
  }
  date(v: unknown, path: string): boolean {
    if (typeof v === "string" && ISO_DATE.test(v) && Number.isFinite(Date.parse(v))) return true;
    this.err(path, v === undefined ? "is required" : "expected an ISO 8601 timestamp like 2025-01-15T10:00:00.000Z");
    return false;
  }
  /** Flags properties the schema does not define (it sets additionalProperties: false). */
  only(o: Obj, keys: readonly string[], path: string): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.err(`${path}.${k}`, "is not a property of the report schema");
  }
  strArray(v: unknown, path: string): void {
    this.arr(v, path)?.forEach((s, i) => this.str(s, `${path}[${i}]`));
  }
  numRecord(v: unknown, path: string, nullable: boolean): void {
    const o = this.obj(v, path);
    if (o) for (const [k, x] of Object.entries(o)) this.num(x, `${path}[${JSON.stringify(k)}]`, { nullable, ...(nullable ? {} : { min: 0 }) });
  }
}

function checkEnvironment(c: Checker, v: unknown, path: string): void {
  const e = c.obj(v, path);
  if (!e) return;
  c.only(e, ["node", "platform", "arch", "cpuModel", "cores", "totalMemoryBytes", "os", "gitCommit", "model", "config"], path);
  for (const k of ["node", "platform", "arch", "cpuModel", "os"]) c.str(e[k], `${path}.${k}`);
  c.num(e.cores, `${path}.cores`, { min: 0, int: true });
  c.num(e.totalMemoryBytes, `${path}.totalMemoryBytes`, { min: 0 });
  if (e.gitCommit !== null) c.str(e.gitCommit, `${path}.gitCommit`);
  if (e.model !== null) {
    const m = c.obj(e.model, `${path}.model`);
    if (m) {
      c.only(m, ["id", "sha256", "sizeBytes"], `${path}.model`);
      c.str(m.id, `${path}.model.id`, true);
      if (c.str(m.sha256, `${path}.model.sha256`) && !/^[0-9a-f]{64}$/.test(m.sha256)) c.err(`${path}.model.sha256`, "expected 64 lowercase hex digits");
      c.num(m.sizeBytes, `${path}.model.sizeBytes`, { min: 0, int: true });
    }
  }
  c.obj(e.config, `${path}.config`);
}

function checkSummary(c: Checker, v: unknown, path: string): void {
  const s = c.obj(v, path);
  if (!s) return;
  c.only(s, SUMMARY_KEYS, path);
  const count = s.count;
  let ok = c.num(count, `${path}.count`, { min: 0, int: true });
  for (const k of SUMMARY_KEYS.slice(1)) ok = c.num(s[k], `${path}.${k}`, { nullable: true, ...(k === "mean" ? {} : { min: 0 }) }) && ok;
  if (!ok) return;
  const nulls = SUMMARY_KEYS.slice(1).filter((k) => s[k] === null);
  if (count === 0 && nulls.length !== SUMMARY_KEYS.length - 1) c.err(path, "an empty summary (count 0) must have null statistics");
  if ((count as number) > 0 && nulls.length > 0) c.err(path, `count > 0 but ${nulls.join(", ")} ${nulls.length > 1 ? "are" : "is"} null`);
  if ((count as number) > 0 && nulls.length === 0) {
    const seq = SUMMARY_ORDER.map((k) => s[k] as number);
    for (let i = 1; i < seq.length; i++) {
      if (seq[i]! < seq[i - 1]!) { c.err(path, `percentiles out of order: ${SUMMARY_ORDER[i - 1]} > ${SUMMARY_ORDER[i]}`); break; }
    }
  }
}

function checkScenario(c: Checker, v: unknown, path: string): string | null {
  const s = c.obj(v, path);
  if (!s) return null;
  c.only(s, ["name", "description", "requests", "successRate", "throughputRps", "latencyMs", "ttftMs", "itlMs", "tpotMs", "errorsByKind", "metrics", "notes"], path);
  c.str(s.name, `${path}.name`, true);
  c.str(s.description, `${path}.description`);
  const r = c.obj(s.requests, `${path}.requests`);
  if (r) {
    const keys = ["total", "ok", "failed", "wrongAnswers"] as const;
    c.only(r, keys, `${path}.requests`);
    const good = keys.map((k) => c.num(r[k], `${path}.requests.${k}`, { min: 0, int: true })).every(Boolean);
    if (good && (r.ok as number) + (r.failed as number) + (r.wrongAnswers as number) !== r.total) {
      c.err(`${path}.requests`, "total must equal ok + failed + wrongAnswers");
    }
  }
  c.num(s.successRate, `${path}.successRate`, { min: 0, max: 1, nullable: true });
  c.num(s.throughputRps, `${path}.throughputRps`, { min: 0, nullable: true });
  checkSummary(c, s.latencyMs, `${path}.latencyMs`);
  for (const k of ["ttftMs", "itlMs", "tpotMs"]) if (s[k] !== undefined) checkSummary(c, s[k], `${path}.${k}`);
  c.numRecord(s.errorsByKind, `${path}.errorsByKind`, false);
  if (s.metrics !== undefined) c.numRecord(s.metrics, `${path}.metrics`, true);
  c.strArray(s.notes, `${path}.notes`);
  return typeof s.name === "string" ? s.name : null;
}

function checkGate(c: Checker, v: unknown, path: string, scenarios: Set<string>): Obj | null {
  const g = c.obj(v, path);
  if (!g) return null;
  c.only(g, ["id", "scenario", "expression", "verdict", "values", "detail"], path);
  c.str(g.id, `${path}.id`, true);
  if (g.scenario !== null && c.str(g.scenario, `${path}.scenario`) && !scenarios.has(g.scenario)) {
    c.err(`${path}.scenario`, `names no scenario of this report: ${JSON.stringify(g.scenario)}`);
  }
  c.str(g.expression, `${path}.expression`, true);
  c.oneOf(g.verdict, ["pass", "fail", "unavailable"], `${path}.verdict`);
  c.numRecord(g.values, `${path}.values`, true);
  c.str(g.detail, `${path}.detail`);
  return g;
}

function checkSeries(c: Checker, v: unknown, path: string): void {
  const s = c.obj(v, path);
  if (!s) return;
  c.only(s, ["memory", "latency", "markers", "memoryFits", "lanes", "stability"], path);
  c.arr(s.memory, `${path}.memory`)?.forEach((m, i) => {
    const p = `${path}.memory[${i}]`;
    const o = c.obj(m, p);
    if (!o) return;
    c.only(o, ["tMs", "rssBytes", "heapUsedBytes", "externalBytes"], p);
    c.num(o.tMs, `${p}.tMs`, { min: 0 });
    c.num(o.rssBytes, `${p}.rssBytes`, { min: 0 });
    for (const k of ["heapUsedBytes", "externalBytes"]) if (o[k] !== undefined) c.num(o[k], `${p}.${k}`, { min: 0 });
  });
  const latencySamples = (v: unknown, at: string) => c.arr(v, at)?.forEach((m, i) => {
    const p = `${at}[${i}]`;
    const o = c.obj(m, p);
    if (!o) return;
    c.only(o, ["tMs", "p50", "p95"], p);
    c.num(o.tMs, `${p}.tMs`, { min: 0 });
    c.num(o.p50, `${p}.p50`, { min: 0, nullable: true });
    c.num(o.p95, `${p}.p95`, { min: 0, nullable: true });
  });
  latencySamples(s.latency, `${path}.latency`);
  if (s.memoryFits !== undefined) {
    c.arr(s.memoryFits, `${path}.memoryFits`)?.forEach((f, i) => {
      const p = `${path}.memoryFits[${i}]`;
      const o = c.obj(f, p);
      if (!o) return;
      c.only(o, ["label", "fromMs", "fromBytes", "toMs", "toBytes", "lowToBytes", "highToBytes"], p);
      c.str(o.label, `${p}.label`);
      for (const k of ["fromMs", "toMs"]) c.num(o[k], `${p}.${k}`, { min: 0 });
      for (const k of ["fromBytes", "toBytes"]) c.num(o[k], `${p}.${k}`);
      for (const k of ["lowToBytes", "highToBytes"]) if (o[k] !== undefined) c.num(o[k], `${p}.${k}`);
    });
  }
  if (s.lanes !== undefined) {
    c.arr(s.lanes, `${path}.lanes`)?.forEach((l, i) => {
      const p = `${path}.lanes[${i}]`;
      const o = c.obj(l, p);
      if (!o) return;
      c.only(o, ["name", "points"], p);
      c.str(o.name, `${p}.name`, true);
      latencySamples(o.points, `${p}.points`);
    });
  }
  if (s.stability !== undefined) {
    const p = `${path}.stability`;
    const o = c.obj(s.stability, p);
    if (o) {
      c.only(o, ["maxRatio", "classes"], p);
      c.num(o.maxRatio, `${p}.maxRatio`, { min: 0 });
      c.arr(o.classes, `${p}.classes`)?.forEach((k, i) => {
        const q = `${p}.classes[${i}]`;
        const cl = c.obj(k, q);
        if (!cl) return;
        c.only(cl, ["label", "points"], q);
        c.str(cl.label, `${q}.label`);
        c.arr(cl.points, `${q}.points`)?.forEach((pt, j) => {
          const r = c.obj(pt, `${q}.points[${j}]`);
          if (!r) return;
          c.only(r, ["tMs", "ratio"], `${q}.points[${j}]`);
          c.num(r.tMs, `${q}.points[${j}].tMs`, { min: 0 });
          c.num(r.ratio, `${q}.points[${j}].ratio`, { min: 0 });
        });
      });
    }
  }
  if (s.markers !== undefined) {
    c.arr(s.markers, `${path}.markers`)?.forEach((m, i) => {
      const o = c.obj(m, `${path}.markers[${i}]`);
      if (o) { c.only(o, ["tMs", "label"], `${path}.markers[${i}]`); c.num(o.tMs, `${path}.markers[${i}].tMs`, { min: 0 }); c.str(o.label, `${path}.markers[${i}].label`); }
    });
  }
}

function checkBaseline(c: Checker, v: unknown, path: string): void {
  const b = c.obj(v, path);
  if (!b) return;
  c.only(b, ["name", "source", "startedAt", "comparisons"], path);
  c.str(b.name, `${path}.name`, true);
  if (b.source !== null) c.str(b.source, `${path}.source`);
  if (b.startedAt !== null) c.date(b.startedAt, `${path}.startedAt`);
  c.arr(b.comparisons, `${path}.comparisons`)?.forEach((x, i) => {
    const p = `${path}.comparisons[${i}]`;
    const o = c.obj(x, p);
    if (!o) return;
    c.only(o, ["scenario", "metric", "baseline", "current", "changePct", "verdict", "pValue"], p);
    if (o.scenario !== null) c.str(o.scenario, `${p}.scenario`);
    c.str(o.metric, `${p}.metric`, true);
    for (const k of ["baseline", "current", "changePct"]) c.num(o[k], `${p}.${k}`, { nullable: true });
    c.oneOf(o.verdict, ["better", "same", "worse", "unknown"], `${p}.verdict`);
    if (o.pValue !== undefined) c.num(o.pValue, `${p}.pValue`, { min: 0, max: 1, nullable: true });
  });
}

/** Problems found in `obj` as a RunReport, as "path: problem" strings; [] when valid. */
export function validateReport(obj: unknown): string[] {
  const c = new Checker();
  const r = c.obj(obj, "$");
  if (!r) return ["$: expected an object"];
  c.only(r, ["schemaVersion", "tool", "kind", "name", "startedAt", "finishedAt", "durationMs", "verdict", "invalidReasons", "environment", "scenarios", "gates", "series", "baseline"], "$");
  c.oneOf(r.schemaVersion, [1], "$.schemaVersion");
  const tool = c.obj(r.tool, "$.tool");
  if (tool) { c.only(tool, ["name", "version"], "$.tool"); c.oneOf(tool.name, ["gauntlet"], "$.tool.name"); c.str(tool.version, "$.tool.version", true); }
  c.oneOf(r.kind, ["stress", "soak", "chaos", "gate"], "$.kind");
  c.str(r.name, "$.name", true);
  const datesOk = c.date(r.startedAt, "$.startedAt") && c.date(r.finishedAt, "$.finishedAt");
  if (datesOk && Date.parse(r.finishedAt as string) < Date.parse(r.startedAt as string)) c.err("$.finishedAt", "is before startedAt");
  c.num(r.durationMs, "$.durationMs", { min: 0 });
  c.oneOf(r.verdict, ["pass", "fail", "invalid"], "$.verdict");
  c.strArray(r.invalidReasons, "$.invalidReasons");
  if (Array.isArray(r.invalidReasons)) {
    if (r.verdict === "invalid" && r.invalidReasons.length === 0) c.err("$.invalidReasons", "an invalid run must say why");
    if (r.verdict !== "invalid" && r.invalidReasons.length > 0) c.err("$.invalidReasons", `present, but the verdict is ${JSON.stringify(r.verdict)} rather than "invalid"`);
  }
  checkEnvironment(c, r.environment, "$.environment");
  const names = new Set<string>();
  c.arr(r.scenarios, "$.scenarios")?.forEach((s, i) => {
    const name = checkScenario(c, s, `$.scenarios[${i}]`);
    if (name !== null && names.has(name)) c.err(`$.scenarios[${i}].name`, `duplicate scenario name ${JSON.stringify(name)}`);
    if (name !== null) names.add(name);
  });
  const ids = new Set<unknown>();
  c.arr(r.gates, "$.gates")?.forEach((g, i) => {
    const gate = checkGate(c, g, `$.gates[${i}]`, names);
    if (!gate) return;
    if (ids.has(gate.id)) c.err(`$.gates[${i}].id`, `duplicate gate id ${JSON.stringify(gate.id)}`);
    ids.add(gate.id);
    if (r.verdict === "pass" && gate.verdict !== "pass") {
      c.err("$.verdict", `is "pass" but gate ${JSON.stringify(gate.id)} is ${JSON.stringify(gate.verdict)}`);
    }
  });
  if (r.series !== undefined) checkSeries(c, r.series, "$.series");
  if (r.baseline !== undefined) checkBaseline(c, r.baseline, "$.baseline");
  return c.errors;
}
