/**
 * `gauntlet report <run-dir>`: (re)renders report.md, junit.xml and report.html of a run directory,
 * leaving the `latest` link alone. SOURCES lists where the report comes from, tried in order:
 * a soak run's journal.jsonl (the source of truth: report.json is rewritten from it, so a crash,
 * a kill or a damaged report.json loses nothing the journal holds), else the folder's report.json.
 */
import { randomUUID } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toHtml, toJunitXml, toMarkdown, validateReport } from "../harness/report/index.js";
import type { RunReport } from "../harness/report/index.js";
import { parseJsonFile } from "../harness/scenarios/index.js";
import { createSoakJournalSource } from "../harness/soak-run/rebuild.js";

export interface LoadedReport {
  report: RunReport;
  /** What the source did, one line each (e.g. how many journal lines it skipped). */
  notes: string[];
}

export interface ReportSource {
  name: string;
  /** The run's report, or null when this source does not apply to the directory. Throws with a message on a broken source. */
  load(dir: string): Promise<LoadedReport | null>;
}

export class SourceError extends Error {}

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
    return { report: parsed.value as RunReport, notes: [] };
  },
};

export const SOURCES: ReportSource[] = [createSoakJournalSource((message) => new SourceError(message)), reportJsonSource];

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

Re-renders report.md, junit.xml and report.html in <run-dir> (e.g. after upgrading gauntlet).
A soak run's folder is rebuilt from its journal.jsonl, report.json included: after Ctrl-C, a
kill or a crash it holds every window that was journaled (torn or damaged lines are skipped and
counted). Other runs are rendered from their report.json. The 'latest' link is left as it is.
Exit codes: 0 rendered, 2 nothing to render from (or a journal/report that cannot be read).`;

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
  let loaded: LoadedReport | null = null;
  try {
    for (const source of sources) {
      loaded = await source.load(dir);
      if (loaded) break;
    }
  } catch (err) {
    io.stderr(err instanceof SourceError ? `gauntlet report: ${err.message}` : `gauntlet report: cannot rebuild the report of ${dir}: ${(err as Error).message}`);
    return 2;
  }
  if (!loaded) {
    io.stderr(`gauntlet report: ${dir} has no report.json (${sources.map((s) => s.name).join(", ")}); give a run directory such as reports/latest`);
    return 2;
  }
  const { report } = loaded;
  for (const note of loaded.notes) io.stdout(`gauntlet report: ${note}`);
  const files: [string, string][] = [
    ["report.md", toMarkdown(report)],
    ["junit.xml", toJunitXml(report)],
    ["report.html", toHtml(report)],
  ];
  for (const [name, data] of files) await writeAtomically(join(dir, name), data);
  io.stdout(`gauntlet report: rendered ${files.map(([n]) => n).join(", ")} in ${dir} (verdict ${report.verdict})`);
  return 0;
}
