/**
 * Line format of the soak journal (JSONL):
 *   {"seq":1,"type":"window",...payload...,"crc":"89abcdef"}
 * `crc` is the CRC-32 (8 lower-case hex digits) of the UTF-8 bytes of the same line
 * without the crc field, i.e. of JSON.stringify({seq, type, ...payload}). Verifying
 * works on the raw bytes: strip the 18-byte `,"crc":"xxxxxxxx"}` suffix, put the
 * `}` back, compare CRCs. Decoding never throws: torn and bad lines are skipped and
 * counted (never dropped silently).
 *
 * Torn or damaged? A line that fails verification is "torn" when no entry is missing around it:
 * the unterminated last line (an append cut short), or such a fragment that a later reopen
 * terminated with a newline, recognisable because the valid entries around it have consecutive
 * sequence numbers (the cut-short append's seq was never committed, so the journal reused it).
 * A bad line with a gap in the sequence numbers around it lost an entry: "checksum" or "garbage".
 */
import { crc32, crc32Hex } from "./crc32.js";

export type JournalEntryType = "window" | "meta" | "end";

export interface JournalEntry {
  seq: number;
  type: JournalEntryType;
  [key: string]: unknown;
}

export interface SkippedLine {
  /** 1-based line number in the file. */
  line: number;
  /** torn: an append cut short, no entry missing (see above); checksum: CRC mismatch; garbage: no checksum or not an entry. */
  reason: "torn" | "checksum" | "garbage";
}

export interface JournalReadResult {
  entries: JournalEntry[];
  /** Appends cut short (the unterminated last line, and fragments a reopen terminated): no entry is missing. */
  tornLines: number;
  /** Lines that fail verification where an entry is missing (checksum mismatch, garbage, blank). */
  badChecksumLines: number;
  /** Highest seq among valid entries; 0 when none. */
  lastSeq: number;
  /** The first MAX_SKIPPED_REPORTS skipped lines. */
  skipped: SkippedLine[];
}

export const MAX_SKIPPED_REPORTS = 100;
const TYPES: ReadonlySet<string> = new Set(["window", "meta", "end"]);
const SUFFIX_LENGTH = 18; // ,"crc":"xxxxxxxx"}
const CRC_PREFIX = [0x2c, 0x22, 0x63, 0x72, 0x63, 0x22, 0x3a, 0x22]; // ,"crc":"
const CLOSE_BRACE = new Uint8Array([0x7d]);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export function isJournalEntryType(value: unknown): value is JournalEntryType {
  return typeof value === "string" && TYPES.has(value);
}

/** One journal line, without its trailing newline. */
export function encodeJournalLine(entry: JournalEntry): string {
  const { seq, type, ...rest } = entry;
  const body = JSON.stringify({ seq, type, ...rest });
  return `${body.slice(0, -1)},"crc":"${crc32Hex(encoder.encode(body))}"}`;
}

type LineResult = { ok: true; entry: JournalEntry } | { ok: false; reason: "checksum" | "garbage" };

export function decodeJournalLine(line: Uint8Array): LineResult {
  const n = line.length;
  if (n < SUFFIX_LENGTH + 2 || line[0] !== 0x7b || line[n - 1] !== 0x7d || line[n - 2] !== 0x22) return { ok: false, reason: "garbage" };
  const start = n - SUFFIX_LENGTH;
  for (let i = 0; i < CRC_PREFIX.length; i++) if (line[start + i] !== CRC_PREFIX[i]) return { ok: false, reason: "garbage" };
  const hex = decoder.decode(line.subarray(start + 8, n - 2));
  if (!/^[0-9a-f]{8}$/.test(hex)) return { ok: false, reason: "garbage" };
  const actual = crc32(CLOSE_BRACE, crc32(line.subarray(0, start)));
  if (actual.toString(16).padStart(8, "0") !== hex) return { ok: false, reason: "checksum" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(line));
  } catch {
    return { ok: false, reason: "garbage" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, reason: "garbage" };
  const { crc: _crc, ...entry } = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(entry.seq) || (entry.seq as number) < 1 || !isJournalEntryType(entry.type)) return { ok: false, reason: "garbage" };
  return { ok: true, entry: entry as JournalEntry };
}

/** Decodes a whole journal file. Never throws. */
export function parseJournal(data: Uint8Array): JournalReadResult {
  const result: JournalReadResult = { entries: [], tornLines: 0, badChecksumLines: 0, lastSeq: 0, skipped: [] };
  const skip = (line: SkippedLine) => {
    if (line.reason === "torn") result.tornLines++;
    else result.badChecksumLines++;
    if (result.skipped.length < MAX_SKIPPED_REPORTS) result.skipped.push(line);
  };
  /** Bad complete lines since the last valid entry: torn or damaged once the next entry's seq is known. */
  let pending: SkippedLine[] = [];
  let previousSeq = 0;
  let lineNo = 0;
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(0x0a, start);
    const end = nl === -1 ? data.length : nl;
    lineNo++;
    const decoded = decodeJournalLine(data.subarray(start, end));
    if (decoded.ok) {
      const nothingMissing = decoded.entry.seq === previousSeq + 1;
      for (const p of pending) skip(nothingMissing ? { line: p.line, reason: "torn" } : p);
      pending = [];
      previousSeq = decoded.entry.seq;
      result.entries.push(decoded.entry);
      result.lastSeq = Math.max(result.lastSeq, decoded.entry.seq);
    } else if (nl === -1) {
      for (const p of pending) skip(p);
      pending = [];
      skip({ line: lineNo, reason: "torn" });
    } else {
      pending.push({ line: lineNo, reason: decoded.reason });
    }
    start = end + 1;
  }
  for (const p of pending) skip(p);
  return result;
}
