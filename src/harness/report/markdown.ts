import { ESTIMATOR } from "../stats/histogram.js";
import {
  DEFINITIONS, NO_VALUE, PERCENTILE_COLUMNS, VERDICT_WORD, countGates, environmentLine, fmtDuration, fmtGateValues,
  fmtMs, fmtNumber, gateHeadline, gatesByUrgency, latencyRows, scenarioHeadline,
} from "./format.js";
import type { RunReport } from "./types.js";

const RUN_ICON: Record<RunReport["verdict"], string> = { pass: "✅", fail: "❌", invalid: "⚠️" };
const GATE_ICON = { pass: "✅", fail: "❌", unavailable: "⚠️" } as const;

/**
 * Plain text safe inside a GitHub-flavoured markdown table cell or paragraph: `<` and entity-like
 * `&` cannot form HTML, markdown punctuation is backslash-escaped (intraword `_` is left alone,
 * GFM never reads it as emphasis) and newlines become spaces.
 */
export function mdText(s: string): string {
  return s
    .replace(/[\r\n]+/g, " ")
    .replace(/&(?=#?\w+;)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/([\\`*[\]#~|])/g, "\\$1")
    .replace(/_/g, (m, i: number, all: string) => (/[A-Za-z0-9]/.test(all[i - 1] ?? "") && /[A-Za-z0-9]/.test(all[i + 1] ?? "") ? m : "\\_"))
    .replace(/^(\s*)([>+-])/, "$1\\$2");
}

/** A code span that survives backticks and pipes in its content, for table cells. */
export function mdCode(s: string): string {
  const text = s.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function gatesSection(r: RunReport): string[] {
  if (r.gates.length === 0) return ["_No gates were evaluated._"];
  const lines = [row(["", "Scenario", "Gate", "Measured"]), row([":-:", "---", "---", "---"])];
  for (const g of gatesByUrgency(r.gates)) {
    const measured = `${fmtGateValues(g.values)} → ${g.detail}`;
    lines.push(row([GATE_ICON[g.verdict], g.scenario === null ? "(run)" : mdText(g.scenario), mdCode(g.expression), mdText(measured)]));
  }
  return lines;
}

function scenarioSection(r: RunReport): string[] {
  const lines: string[] = [];
  for (const s of r.scenarios) {
    lines.push("", `### ${mdText(s.name)}`);
    if (s.description !== "") lines.push("", mdText(s.description));
    lines.push("", mdText(scenarioHeadline(s)), "");
    lines.push(row(["ms", ...PERCENTILE_COLUMNS.map(([, label]) => label), "max", "mean", "n"]));
    lines.push(row(["---", ...PERCENTILE_COLUMNS.map(() => "--:"), "--:", "--:", "--:"]));
    for (const { label, summary } of latencyRows(s)) {
      lines.push(row([label, ...PERCENTILE_COLUMNS.map(([k]) => fmtMs(summary[k])), fmtMs(summary.max), fmtMs(summary.mean), String(summary.count)]));
    }
    for (const note of s.notes) lines.push("", `> ${mdText(note)}`);
  }
  return lines;
}

function baselineSection(r: RunReport): string[] {
  const b = r.baseline;
  if (b === undefined) return [];
  const lines = ["", `## Baseline: ${mdText(b.name)}`, ""];
  if (b.source !== null) lines.push(`Compared with ${mdCode(b.source)}.`, "");
  lines.push(row(["Scenario", "Metric", "Baseline", "Current", "Change", "Verdict", "p"]), row(["---", "---", "--:", "--:", "--:", "---", "--:"]));
  for (const c of b.comparisons) {
    const change = c.changePct === null ? NO_VALUE : `${c.changePct > 0 ? "+" : ""}${c.changePct.toFixed(1)}%`;
    const icon = c.verdict === "worse" ? "🔺 " : c.verdict === "better" ? "🟢 " : "";
    lines.push(row([
      c.scenario === null ? "(run)" : mdText(c.scenario), mdText(c.metric), fmtNumber(c.baseline), fmtNumber(c.current),
      change, `${icon}${c.verdict}`, c.pValue === undefined || c.pValue === null ? NO_VALUE : fmtNumber(c.pValue),
    ]));
  }
  return lines;
}

/** The run report as GitHub-flavoured markdown, readable in five seconds: verdict, gates, then detail. */
export function toMarkdown(r: RunReport): string {
  const counts = countGates(r.gates);
  const lines = [`# ${RUN_ICON[r.verdict]} ${VERDICT_WORD[r.verdict]} · ${r.kind} · ${mdText(r.name)}`, ""];
  lines.push(`**${gateHeadline(counts)}** · ${r.scenarios.length} scenario${r.scenarios.length === 1 ? "" : "s"} · ${fmtDuration(r.durationMs)} · started ${mdText(r.startedAt)}`);
  if (r.verdict === "invalid") {
    lines.push("", "**The measurement cannot be trusted, whatever the gates say:**", "");
    for (const reason of r.invalidReasons) lines.push(`- ${mdText(reason)}`);
  }
  lines.push("", "## Gates", "", ...gatesSection(r));
  if (r.scenarios.length > 0) lines.push("", "## Scenarios", ...scenarioSection(r));
  lines.push(...baselineSection(r));
  lines.push("", "---", "", `<sub>${mdText(environmentLine(r))}</sub>`, "");
  lines.push(`<sub>Percentiles: ${mdText(ESTIMATOR)}. ${DEFINITIONS.map(mdText).join(" ")}</sub>`, "");
  return lines.join("\n");
}
