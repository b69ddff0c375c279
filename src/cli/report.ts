/**
 * `gauntlet report <run-dir>`: (re)renders report.md, junit.xml and report.html of a run directory
 * from its report.json, leaving report.json and the `latest` link alone.
 *
 * Extension point: SOURCES lists where a report can be rebuilt from, tried in order. The soak work
 * adds a source that rebuilds report.json from a soak journal when the run was interrupted.
 */
import { randomUUID } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toHtml, toJunitXml, toMarkdown, validateReport } from "../harness/report/index.js";
import type { RunReport } from "../harness/report/index.js";
import { parseJsonFile } from "../harness/scenarios/index.js";

export interface ReportSource {
  name: string;
  /** The run's report, or null when this source does not apply to the directory. Throws with a message on a broken source. */
  load(dir: string): Promise<RunReport | null>;
}

class SourceError extends Error {}

export const reportJsonSource: ReportSource = {
  name: "report.json",
  async load(dir) {
    let text: string;
    try {
      text = await readFile(join(dir, "report.json"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new SourceError(`${join(dir, "report.json")} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    const parsed = parseJsonFile(text, join(dir, "report.json"));
    if (!parsed.ok) throw new SourceError(parsed.error);
    const problems = validateReport(parsed.value);
    if (problems.length > 0) throw new SourceError(`${join(dir, "report.json")} is not a valid report:\n  ${problems.slice(0, 10).join("\n  ")}`);
    return parsed.value as RunReport;
  },
};

export const SOURCES: ReportSource[] = [reportJsonSource];

async function writeAtomically(path: string, data: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    await writeFile(temp, data, "utf8");
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export const REPORT_HELP = `Usage: gauntlet report <run-dir>

Re-renders report.md, junit.xml and report.html in <run-dir> from its report.json
(e.g. after upgrading gauntlet). report.json and the 'latest' link are left as they are.`;

export async function runReportCommand(argv: readonly string[], io: { stdout: (l: string) => void; stderr: (l: string) => void }, sources: readonly ReportSource[] = SOURCES): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(REPORT_HELP);
    return 0;
  }
  const bad = argv.find((a) => a.startsWith("-"));
  if (bad !== undefined || argv.length !== 1) {
    io.stderr(`gauntlet report: ${bad !== undefined ? `unknown option ${bad}` : "give exactly one run directory"}\n\n${REPORT_HELP}`);
    return 2;
  }
  const dir = argv[0]!;
  let report: RunReport | null = null;
  try {
    for (const source of sources) {
      report = await source.load(dir);
      if (report) break;
    }
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    io.stderr(`gauntlet report: ${err.message}`);
    return 2;
  }
  if (!report) {
    io.stderr(`gauntlet report: ${dir} has no report.json (${sources.map((s) => s.name).join(", ")}); give a run directory such as reports/latest`);
    return 2;
  }
  const files: [string, string][] = [
    ["report.md", toMarkdown(report)],
    ["junit.xml", toJunitXml(report)],
    ["report.html", toHtml(report)],
  ];
  for (const [name, data] of files) await writeAtomically(join(dir, name), data);
  io.stdout(`gauntlet report: rendered ${files.map(([n]) => n).join(", ")} in ${dir} (verdict ${report.verdict})`);
  return 0;
}
