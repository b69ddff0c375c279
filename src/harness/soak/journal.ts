/**
 * Crash-safe, append-only JSONL journal of a soak run (format: journal-codec.ts).
 *
 * - openJournal reads what is already there (`recovered`), continues numbering after
 *   its last seq, and if the file ends in a torn line terminates it with a newline,
 *   so the fragment stays in the file (still counted as torn: the next entry reuses
 *   the fragment's seq, so the reader sees no entry is missing) and later lines are clean.
 *   A newly created file gets its directory fsynced so it survives power loss.
 * - append writes one line and fsyncs before resolving; appends are serialised in
 *   call order (seq is assigned at call time). After a failed write or fsync the
 *   file may end in a partial line, so the journal is "broken": every later append
 *   rejects (reopen to resume; the reader skips and counts the partial line).
 */
import { parseJournal, encodeJournalLine, isJournalEntryType } from "./journal-codec.js";
import type { JournalEntry, JournalEntryType, JournalReadResult } from "./journal-codec.js";
import { errorCode, syncParentDirectory } from "./soak-fs.js";
import type { SoakFileHandle, SoakFs } from "./soak-fs.js";

export { parseJournal, encodeJournalLine } from "./journal-codec.js";
export type { JournalEntry, JournalEntryType, JournalReadResult, SkippedLine } from "./journal-codec.js";
export { writeFileAtomic } from "./atomic-write.js";

/** What a caller appends: seq and crc are added by the journal. */
export interface JournalInput {
  type: JournalEntryType;
  [key: string]: unknown;
}

export interface Journal {
  /** Resolves with the written entry once it is on disk (written and fsynced). */
  append(input: JournalInput): Promise<JournalEntry>;
  /** Waits for pending appends, then closes the file. */
  close(): Promise<void>;
  /** The journal's content when it was opened. */
  readonly recovered: JournalReadResult;
}

export interface JournalOptions {
  fs: SoakFs;
}

export async function readJournal(path: string, { fs }: JournalOptions): Promise<JournalReadResult> {
  const data = await readOrNull(fs, path);
  return parseJournal(data ?? new Uint8Array());
}

export async function openJournal(path: string, { fs }: JournalOptions): Promise<Journal> {
  const existing = await readOrNull(fs, path);
  const recovered = parseJournal(existing ?? new Uint8Array());
  const handle = await fs.open(path, "a");
  try {
    if (existing === null) {
      await syncParentDirectory(fs, path);
    } else if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) {
      await handle.writeFile("\n");
      await handle.sync();
    }
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return createJournal(handle, recovered);
}

function createJournal(handle: SoakFileHandle, recovered: JournalReadResult): Journal {
  let lastSeq = recovered.lastSeq;
  let tail: Promise<unknown> = Promise.resolve();
  let broken: unknown = null;
  let closing = false;

  return {
    recovered,
    async append(input) {
      if (closing) throw new Error("journal is closed");
      if (!isJournalEntryType(input.type)) throw new TypeError(`unknown journal entry type: ${String(input.type)}`);
      if ("seq" in input || "crc" in input) throw new TypeError("journal entries must not carry seq or crc: the journal adds them");
      const { type, ...payload } = input;
      const entry: JournalEntry = { seq: ++lastSeq, type, ...payload };
      const line = `${encodeJournalLine(entry)}\n`;
      const write = tail.then(async () => {
        if (broken !== null) throw new Error("journal is broken by an earlier failed write", { cause: broken });
        try {
          await handle.writeFile(line);
          await handle.sync();
        } catch (err) {
          broken = err;
          throw err;
        }
        return entry;
      });
      tail = write.catch(() => undefined);
      return write;
    },
    async close() {
      closing = true;
      await tail;
      await handle.close();
    },
  };
}

async function readOrNull(fs: SoakFs, path: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if (errorCode(err) === "ENOENT") return null;
    throw err;
  }
}
