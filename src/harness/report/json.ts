import type { RunReport } from "./types.js";

/** report.json: the report as pretty JSON (2-space indent, trailing newline). See docs/report.schema.json. */
export function toReportJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
