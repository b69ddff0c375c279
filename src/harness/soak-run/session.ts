/**
 * A soak run's folder: journal.jsonl (every window, checksummed, fsynced) and the report files,
 * rewritten atomically after each window (writeReportDir: report.json, report.md, junit.xml,
 * report.html, `latest`) plus soak-verdict.json (the memory fits per lifetime, the latency windows'
 * verdicts and every soak metric). Appending goes journal first, then the in-memory fold, so the
 * state never holds what the disk does not.
 */
import { join } from "node:path";
import { writeReportDir } from "../report/index.js";
import type { RunReport } from "../report/types.js";
import { nodeSoakFs, openJournal, writeFileAtomic } from "../soak/index.js";
import type { Journal, JournalReadResult, SoakFs } from "../soak/index.js";
import { asSoakEntry, withoutSeq } from "./entries.js";
import type { MetaStart, SoakEntry } from "./entries.js";
import { buildSoakReport } from "./soak-report.js";
import { createSoakState } from "./state.js";
import type { SoakState, SoakStateOptions } from "./state.js";
import { computeVerdict } from "./verdict.js";
import type { SoakVerdict } from "./verdict.js";

export const JOURNAL_FILE = "journal.jsonl";
export const VERDICT_FILE = "soak-verdict.json";

export interface SessionOptions {
  fs?: SoakFs;
  /** Default writeReportDir (also points <parent>/latest at the run folder). */
  writeReport?: (dir: string, report: RunReport) => Promise<unknown>;
  state?: SoakStateOptions;
}

export interface SoakSession {
  readonly runDir: string;
  readonly state: SoakState;
  readonly start: MetaStart;
  append(entry: SoakEntry): Promise<void>;
  render(): { report: RunReport; verdict: SoakVerdict };
  /** Renders and writes the report files and soak-verdict.json. */
  writeReports(): Promise<{ report: RunReport; verdict: SoakVerdict }>;
  close(): Promise<void>;
}

/** Notes on what a journal read skipped: counted, never dropped silently. */
export function journalNotes(read: JournalReadResult): string[] {
  const notes: string[] = [];
  if (read.tornLines > 0) notes.push(`journal: ${read.tornLines} torn line${read.tornLines === 1 ? "" : "s"} skipped (${read.tornLines === 1 ? "an append" : "appends"} cut short by a crash or kill; no entry is missing)`);
  if (read.badChecksumLines > 0) {
    const lines = read.skipped.filter((s) => s.reason !== "torn").map((s) => s.line);
    notes.push(`journal: ${read.badChecksumLines} damaged line(s) skipped (checksum or format), at line(s) ${lines.slice(0, 10).join(", ")}: their windows are missing from this report`);
  }
  return notes;
}

/** Folds a journal's entries; null when it has no start entry. */
export function foldJournal(read: JournalReadResult, options: SoakStateOptions = {}): { start: MetaStart; state: SoakState } | null {
  const entries = read.entries.map((e) => ({ raw: e, entry: asSoakEntry(e) }));
  const first = entries.find((x) => x.entry?.type === "meta" && x.entry.event === "start")?.entry as MetaStart | undefined;
  if (!first) return null;
  const start = withoutSeq(first);
  const state = createSoakState(start, options);
  for (const { entry } of entries) {
    if (entry === null) state.addUnreadable();
    else if (!(entry.type === "meta" && entry.event === "start")) state.add(withoutSeq(entry));
  }
  return { start, state };
}

export function sidecar(verdict: SoakVerdict): string {
  return `${JSON.stringify({ memory: verdict.memory, latency: verdict.latency, metrics: verdict.metrics }, null, 2)}\n`;
}

/**
 * A new run (`start` given: the journal must not exist yet) or a resume (`start` null: read from
 * the journal, whose torn last line, if any, is terminated and counted).
 */
export async function openSession(runDir: string, start: MetaStart | null, options: SessionOptions = {}): Promise<SoakSession> {
  const fs = options.fs ?? nodeSoakFs;
  const journal: Journal = await openJournal(join(runDir, JOURNAL_FILE), { fs });
  let folded: { start: MetaStart; state: SoakState };
  try {
    if (start !== null) {
      if (journal.recovered.entries.length > 0 || journal.recovered.tornLines + journal.recovered.badChecksumLines > 0) {
        throw new Error(`${join(runDir, JOURNAL_FILE)} already exists: resume it with --resume, or pick another --out`);
      }
      await journal.append(start);
      folded = { start, state: createSoakState(start, options.state) };
    } else {
      const f = foldJournal(journal.recovered, options.state);
      if (!f) throw new Error(`${join(runDir, JOURNAL_FILE)} has no start entry: it is not a soak journal (or its first line is damaged)`);
      folded = f;
    }
  } catch (err) {
    await journal.close().catch(() => undefined);
    throw err;
  }
  const notes = start === null ? journalNotes(journal.recovered) : [];
  const { state } = folded;
  const write = options.writeReport ?? ((dir: string, report: RunReport) => writeReportDir(dir, report));
  const render = () => {
    const snapshot = state.snapshot();
    const verdict = computeVerdict(snapshot);
    return { report: buildSoakReport(snapshot, verdict, { notes }), verdict };
  };
  return {
    runDir,
    state,
    start: folded.start,
    async append(entry) {
      await journal.append(entry);
      state.add(entry);
    },
    render,
    async writeReports() {
      const { report, verdict } = render();
      await write(runDir, report);
      await writeFileAtomic(join(runDir, VERDICT_FILE), sidecar(verdict), { fs });
      return { report, verdict };
    },
    close: () => journal.close(),
  };
}
