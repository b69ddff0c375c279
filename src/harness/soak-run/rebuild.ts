/**
 * `gauntlet report <run-dir>` for soak runs: rebuilds the report from journal.jsonl (a run that was
 * interrupted or crashed has its windows there even when its last report rewrite never happened).
 * A torn last line is skipped and counted in the report's notes. Writes report.json and
 * soak-verdict.json atomically; the report command renders the other files from the result.
 */
import { join } from "node:path";
import type { RunReport } from "../report/types.js";
import { nodeSoakFs, readJournal, writeFileAtomic } from "../soak/index.js";
import { errorCode } from "../soak/soak-fs.js";
import type { JournalReadResult, SoakFs } from "../soak/index.js";
import { toReportJson } from "../report/index.js";
import { buildSoakReport } from "./soak-report.js";
import { JOURNAL_FILE, VERDICT_FILE, foldJournal, journalNotes, sidecar } from "./session.js";
import { computeVerdict } from "./verdict.js";

export interface RebuiltReport {
  report: RunReport;
  journal: { entries: number; tornLines: number; badLines: number };
}

export class SoakJournalError extends Error {}

/** False only when the file does not exist; any other failure is the journal's (rebuildSoakReport reports it). */
async function exists(fs: SoakFs, path: string): Promise<boolean> {
  try {
    await fs.readFile(path);
    return true;
  } catch (err) {
    return errorCode(err) !== "ENOENT";
  }
}

export async function rebuildSoakReport(runDir: string, options: { fs?: SoakFs } = {}): Promise<RebuiltReport> {
  const fs = options.fs ?? nodeSoakFs;
  const path = join(runDir, JOURNAL_FILE);
  let read: JournalReadResult;
  try {
    read = await readJournal(path, { fs });
  } catch (err) {
    throw new SoakJournalError(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const folded = foldJournal(read);
  if (!folded) throw new SoakJournalError(`${path} has no start entry: not a soak journal, or its first line is damaged`);
  const snapshot = folded.state.snapshot();
  const verdict = computeVerdict(snapshot);
  const report = buildSoakReport(snapshot, verdict, { notes: [...journalNotes(read), `report rebuilt from ${JOURNAL_FILE} (${read.entries.length} entries)`] });
  await writeFileAtomic(join(runDir, "report.json"), toReportJson(report), { fs });
  await writeFileAtomic(join(runDir, VERDICT_FILE), sidecar(verdict), { fs });
  return { report, journal: { entries: read.entries.length, tornLines: read.tornLines, badLines: read.badChecksumLines } };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** One line on what a rebuild read and skipped (counted, never dropped silently). */
export function describeRebuild(r: RebuiltReport): string {
  const j = r.journal;
  return `rebuilt report.json from ${JOURNAL_FILE} (${plural(j.entries, "entry").replace(/entrys$/, "entries")}; ${plural(j.tornLines, "torn line")} skipped, ${plural(j.badLines, "damaged line")} skipped)`;
}

/**
 * A report source for src/cli/report.ts: the report rebuilt from journal.jsonl when `dir` holds one,
 * else null (the next source applies). A journal that cannot be rebuilt throws `wrapError(reason)`
 * (the report command's own error class, so it becomes a usage message and exit 2).
 */
export function createSoakJournalSource(wrapError: (message: string) => Error = (m) => new SoakJournalError(m)) {
  return {
    name: JOURNAL_FILE,
    async load(dir: string): Promise<{ report: RunReport; notes: string[] } | null> {
      if (!(await exists(nodeSoakFs, join(dir, JOURNAL_FILE)))) return null;
      try {
        const rebuilt = await rebuildSoakReport(dir);
        return { report: rebuilt.report, notes: [describeRebuild(rebuilt)] };
      } catch (err) {
        throw err instanceof SoakJournalError ? wrapError(err.message) : err;
      }
    },
  };
}
