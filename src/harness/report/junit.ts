import { ESTIMATOR } from "../stats/histogram.js";
import { PERCENTILE_COLUMNS, environmentLine, fmtGateValues, fmtMs, latencyRows, scenarioHeadline } from "./format.js";
import type { GateResult, RunReport, ScenarioReport } from "./types.js";
import { xmlAttr, xmlText } from "./xml.js";

export interface JunitOptions {
  /** How an unavailable gate appears: as an error (default; CI shows red) or as skipped. */
  unavailableAs?: "error" | "skipped";
}

interface Case {
  name: string;
  problem: string | null;
  kind: "failure" | "error" | "skipped" | null;
}

interface Suite {
  name: string;
  cases: Case[];
  properties: [string, string][];
  out: string;
}

const GLOBAL = "global";

function classPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "_");
}

/** Ant form: local-less ISO timestamp without zone, here in UTC. */
function antTimestamp(iso: string): string | null {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 19) : null;
}

function gateCase(g: GateResult, unavailableAs: "error" | "skipped"): Case {
  if (g.verdict === "pass") return { name: g.expression, problem: null, kind: null };
  if (g.verdict === "fail") {
    const message = `${g.expression}: ${fmtGateValues(g.values)}`;
    const body = `${fmtGateValues(g.values)}\n${g.detail}\ngate: ${g.id}`;
    return { name: g.expression, problem: `<failure type="gate" message="${xmlAttr(message)}">${xmlText(body)}</failure>`, kind: "failure" };
  }
  const message = `${g.expression}: ${g.detail}`;
  if (unavailableAs === "skipped") return { name: g.expression, problem: `<skipped message="${xmlAttr(message)}"/>`, kind: "skipped" };
  const body = `${g.detail}\nA gate that cannot be evaluated is not a pass.\ngate: ${g.id}`;
  return { name: g.expression, problem: `<error type="unavailable" message="${xmlAttr(message)}">${xmlText(body)}</error>`, kind: "error" };
}

function scenarioOut(s: ScenarioReport): string {
  const lines = [scenarioHeadline(s)];
  if (s.description !== "") lines.unshift(s.description);
  for (const { label, summary } of latencyRows(s)) {
    lines.push(`${label} ms: ${PERCENTILE_COLUMNS.map(([k, l]) => `${l} ${fmtMs(summary[k])}`).join(", ")}, max ${fmtMs(summary.max)}, n ${summary.count}`);
  }
  return [...lines, ...s.notes].join("\n");
}

function buildSuites(r: RunReport, unavailableAs: "error" | "skipped"): Suite[] {
  const suites = new Map<string, Suite>();
  for (const s of r.scenarios) {
    suites.set(s.name, { name: s.name, cases: [], properties: [["description", s.description]], out: scenarioOut(s) });
  }
  const global: Suite = {
    name: GLOBAL,
    cases: [],
    properties: [
      ["verdict", r.verdict], ["kind", r.kind], ["startedAt", r.startedAt], ["finishedAt", r.finishedAt],
      ["node", r.environment.node], ["cpu", `${r.environment.cores} x ${r.environment.cpuModel}`],
      ["gitCommit", r.environment.gitCommit ?? ""], ["model", r.environment.model?.id ?? ""],
    ],
    out: `${environmentLine(r)}\nPercentiles: ${ESTIMATOR}`,
  };
  if (r.verdict === "invalid") {
    const reasons = r.invalidReasons.length > 0 ? r.invalidReasons : ["no reason given"];
    global.cases.push({
      name: "measurement is valid",
      problem: `<error type="invalid" message="${xmlAttr(reasons.join("; "))}">${xmlText(reasons.join("\n"))}</error>`,
      kind: "error",
    });
  }
  for (const g of r.gates) {
    const key = g.scenario ?? GLOBAL;
    let suite = key === GLOBAL ? global : suites.get(key);
    if (suite === undefined) {
      suite = { name: key, cases: [], properties: [], out: "" };
      suites.set(key, suite);
    }
    const c = gateCase(g, unavailableAs);
    if (suite.cases.some((x) => x.name === c.name)) c.name = `${c.name} [${g.id}]`;
    suite.cases.push(c);
  }
  return [...suites.values(), global];
}

function tally(cases: readonly Case[]): { tests: number; failures: number; errors: number; skipped: number } {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.kind === "failure").length,
    errors: cases.filter((c) => c.kind === "error").length,
    skipped: cases.filter((c) => c.kind === "skipped").length,
  };
}

/** JUnit XML (Jenkins/Ant form): one testsuite per scenario plus "global", one testcase per gate. */
export function toJunitXml(r: RunReport, options: JunitOptions = {}): string {
  const suites = buildSuites(r, options.unavailableAs ?? "error");
  const total = tally(suites.flatMap((s) => s.cases));
  const prefix = `gauntlet.${classPart(r.kind)}.${classPart(r.name)}`;
  const stamp = antTimestamp(r.startedAt);
  const seconds = (Math.max(0, r.durationMs) / 1000).toFixed(3);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="${xmlAttr(`gauntlet ${r.kind}: ${r.name}`)}" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" skipped="${total.skipped}" time="${seconds}">`);
  suites.forEach((s, i) => {
    const t = tally(s.cases);
    const attrs = [
      `name="${xmlAttr(s.name)}"`, `tests="${t.tests}"`, `failures="${t.failures}"`, `errors="${t.errors}"`, `skipped="${t.skipped}"`,
      `time="${s.name === GLOBAL ? seconds : "0"}"`, ...(stamp === null ? [] : [`timestamp="${stamp}"`]), `id="${i}"`, `package="${xmlAttr(prefix)}"`,
    ];
    out.push(`  <testsuite ${attrs.join(" ")}>`);
    if (s.properties.length > 0) {
      out.push("    <properties>");
      for (const [k, v] of s.properties) out.push(`      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`);
      out.push("    </properties>");
    }
    const classname = xmlAttr(`${prefix}.${classPart(s.name)}`);
    for (const c of s.cases) {
      if (c.problem === null) out.push(`    <testcase name="${xmlAttr(c.name)}" classname="${classname}" time="0"/>`);
      else out.push(`    <testcase name="${xmlAttr(c.name)}" classname="${classname}" time="0">`, `      ${c.problem}`, "    </testcase>");
    }
    if (s.out !== "") out.push(`    <system-out>${xmlText(s.out)}</system-out>`);
    out.push("  </testsuite>");
  });
  out.push("</testsuites>", "");
  return out.join("\n");
}
