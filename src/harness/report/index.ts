export type {
  BaselineChange, BaselineComparison, BaselineInfo, EnvironmentInfo, GateResult, LatencySample, LatencySummary, Marker,
  MemorySample, ModelInfo, ReportKind, ReportSeries, RequestCounts, RunReport, RunVerdict, ScenarioReport,
} from "./types.js";
export { validateReport } from "./validate.js";
export { toReportJson } from "./json.js";
export { mdCode, mdText, toMarkdown } from "./markdown.js";
export type { JunitOptions } from "./junit.js";
export { toJunitXml } from "./junit.js";
export { chartCount, embedJson, escapeHtml, toHtml } from "./html.js";
export type { ReportFs, WriteReportDirOptions, WrittenReport } from "./write-dir.js";
export { writeReportDir } from "./write-dir.js";
export type { SummaryFs } from "./github-summary.js";
export { GITHUB_SUMMARY_LIMIT_BYTES, appendGithubSummary, fitSummary } from "./github-summary.js";
export { exampleReport } from "./example.js";
