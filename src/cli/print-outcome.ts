/** The end of a stress or gate run on the terminal: one line per gate, the verdict, where the reports are. */
import { relative } from "node:path";
import type { RunOutcome } from "../harness/runner/run-gauntlet.js";

const ICON = { pass: "✅", fail: "❌", unavailable: "⚠️" } as const;

export function outcomeLines(command: string, o: RunOutcome, cwd = process.cwd()): string[] {
  const r = o.report;
  const lines: string[] = [];
  for (const g of r.gates) lines.push(`${ICON[g.verdict]} ${g.id}: ${g.expression}  →  ${g.detail}`);
  for (const reason of r.invalidReasons) lines.push(`⚠️ invalid: ${reason}`);
  const count = (v: string) => r.gates.filter((g) => g.verdict === v).length;
  const word = r.verdict === "pass" ? "✅ PASS" : r.verdict === "fail" ? "❌ FAIL" : "⚠️ INVALID (the measurement cannot be trusted; neither green nor red)";
  lines.push(`gauntlet ${command}: ${word}: ${r.gates.length} gates, ${count("pass")} passed, ${count("fail")} failed, ${count("unavailable")} unavailable`);
  const dir = relative(cwd, o.written.dir) || ".";
  lines.push(`reports: ${dir}/ (report.json, report.md, junit.xml, report.html)${o.written.latest ? `; latest -> ${relative(cwd, o.written.latest)}` : ""}`);
  return lines;
}

export function printOutcome(io: { stdout: (l: string) => void; stderr: (l: string) => void }, command: string, o: RunOutcome): void {
  for (const line of outcomeLines(command, o)) io.stdout(line);
  for (const p of o.written.problems) io.stderr(`gauntlet ${command}: warning: report.json problem: ${p}`);
  for (const w of o.written.warnings) io.stderr(`gauntlet ${command}: warning: ${w}`);
}
