/**
 * The corruption operations `gauntlet chaos` applies to response-cache record files, from outside
 * the server (SQLite's method: corrupt bytes of a good file, then assert no crash and no wrong
 * answer). Byte operations are pure functions of the good bytes and a seeded random source, so a
 * failing case can be replayed; file operations change what kind of file sits at the path.
 *
 * Record-level forgeries (another model's record, another format version, a record under the
 * wrong name, a framed payload that is not UTF-8) carry a wrong text on purpose: if the server ever
 * accepted one, the answer it served would differ from the reference and count as wrong.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, mkdir, open, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { RECORD_MAGIC, decodeRecord, encodeRecord } from "../../cache/record-codec.js";
import type { CacheRecord } from "../../cache/record-codec.js";
import { mulberry32 } from "../../engine/gguf/prng.js";

export interface CorruptionContext {
  random: () => number;
  /** The good record the file holds (or should hold): forgeries are built from it. */
  record: CacheRecord;
}

export type ByteCorruption = (good: Buffer, ctx: CorruptionContext) => Buffer;

/** How the server must treat the file: quarantine it, report an I/O error and leave it, or (as root) read it. */
export type Handling = "quarantine" | "io-error" | "maybe-readable";

export interface CorruptionOp {
  name: string;
  description: string;
  handling: Handling;
  /** In the quick subset and the shared restart (false: it needs a server start of its own, see steps-crash.ts). */
  quick: boolean;
  apply(path: string, ctx: CorruptionContext): Promise<void>;
  /** Undoes what the operation left behind that could block the harness (FIFO readers, modes). */
  cleanup?(path: string): Promise<void>;
  /**
   * For an unreadable thing (io-error): what must be at the path once the server has handled the request,
   * checked before cleanup. `ok` false says what was found instead.
   */
  inspectAfter?(path: string, expected: ExpectedRecord): Promise<Afterwards>;
}

/** The record the request should leave behind, if the server replaces what was there. */
export interface ExpectedRecord {
  fingerprint: string;
  key: string;
  text: string;
}

export interface Afterwards {
  ok: boolean;
  /** The promise, in one sentence. */
  what: string;
  /** What was found. */
  seen: string;
}

type Kind = "directory" | "symlink" | "fifo" | "file" | "other" | "absent";

async function kindOf(path: string): Promise<Kind> {
  try {
    const st = await lstat(path);
    return st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : st.isFIFO() ? "fifo" : st.isFile() ? "file" : "other";
  } catch {
    return "absent";
  }
}

/** A regular file at `path` holding a valid record of the expected request and text. */
async function freshRecord(path: string, e: ExpectedRecord): Promise<boolean> {
  try {
    const d = decodeRecord(await readFile(path), { fingerprint: e.fingerprint, maxBytes: 8 << 20, key: e.key });
    return d.ok && d.record.value.text === e.text;
  } catch {
    return false;
  }
}

const DIRECTORY_CONTENT = "a directory where a record should be";

/** A directory cannot be replaced by a rename: it must be there, with its content, untouched. */
async function directoryLeft(path: string): Promise<Afterwards> {
  const what = "the directory was left in place with its content (never removed, emptied or quarantined)";
  const kind = await kindOf(path);
  if (kind !== "directory") return { ok: false, what, seen: `a ${kind} is there now` };
  const content = await readFile(join(path, "keep"), "utf8").catch(() => null);
  return content === DIRECTORY_CONTENT ? { ok: true, what, seen: "the directory and its file, unchanged" } : { ok: false, what, seen: "its file is gone or changed" };
}

/** A link or a FIFO may stay, or be replaced by the fresh record (rename replaces the entry, never a target). */
function entryLeftOrReplaced(kind: "symlink" | "fifo", label: string) {
  return async (path: string, e: ExpectedRecord): Promise<Afterwards> => {
    const what = `the ${label} was left in place, or the entry itself (nothing through it) replaced by a fresh valid record of the request`;
    const now = await kindOf(path);
    if (now === kind) return { ok: true, what, seen: `the ${label} is still there` };
    if (now === "file" && (await freshRecord(path, e))) return { ok: true, what, seen: "replaced by a fresh valid record" };
    return { ok: false, what, seen: now === "file" ? "a file that is not a valid record of the request" : `a ${now} is there now` };
  };
}

export const WRONG_TEXT = "CHAOS-WRONG-ANSWER: a forged record must never be served";

export function seededRandom(seed: number): () => number {
  return mulberry32(seed >>> 0);
}

const int = (random: () => number, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A record file with the codec's framing but any header fields and payload (checksum and length right). */
function frame(v: number, fp: string, key: string, payload: Buffer): Buffer {
  const header = JSON.stringify({ v, fp, key, len: payload.length, sha256: sha256(payload) });
  return Buffer.concat([Buffer.from(RECORD_MAGIC, "latin1"), Buffer.from(`${header}\n`, "latin1"), payload]);
}

const wrong = (r: CacheRecord): CacheRecord => ({ ...r, value: { ...r.value, text: WRONG_TEXT } });

export const BYTE_CORRUPTIONS = {
  /** A torn write: the first k bytes only (1 <= k < size). */
  truncate: (good, { random }) => good.subarray(0, int(random, 1, Math.max(1, good.length - 1))),
  /** A zero-length file. */
  empty: () => Buffer.alloc(0),
  /** 1 to 8 distinct bits flipped anywhere in the file. */
  "flip-bits": (good, { random }) => {
    const out = Buffer.from(good);
    const bits = new Set<number>();
    const want = Math.min(good.length * 8, int(random, 1, 8));
    while (bits.size < want) bits.add(Math.floor(random() * good.length * 8));
    for (const bit of bits) out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
    return out;
  },
  /** 1 to 64 bytes zeroed, starting at a non-zero byte (so something changes). */
  "zero-range": (good, { random }) => {
    const out = Buffer.from(good);
    const nonZero = [...good.keys()].filter((i) => good[i] !== 0);
    const start = nonZero[Math.floor(random() * nonZero.length)] ?? 0;
    out.fill(0, start, Math.min(good.length, start + int(random, 1, 64)));
    return out;
  },
  /** 1 to 64 random bytes after the end of the record. */
  "append-garbage": (good, { random }) => Buffer.concat([good, Buffer.from(Array.from({ length: int(random, 1, 64) }, () => int(random, 0, 255)))]),
  /** The whole file replaced by as many NUL bytes. */
  "null-bytes": (good) => Buffer.alloc(good.length),
  /** The whole file replaced by bytes that are not UTF-8 (lone continuation bytes, 0xFE/0xFF). */
  "invalid-utf8": (good, { random }) => Buffer.from(Array.from({ length: Math.max(1, good.length) }, () => [0xff, 0xfe, 0x80, 0xc3, 0xbf][int(random, 0, 4)] as number)),
  /** Right framing and checksum, but the payload is not UTF-8. */
  "invalid-utf8-payload": (_good, { random, record }) =>
    frame(1, record.fingerprint, record.key, Buffer.concat([Buffer.from(`{"text":"${WRONG_TEXT}`), Buffer.from([0xff, 0xfe, int(random, 0x80, 0xbf)]), Buffer.from(`"}`)])),
  /** A valid record of the same request from another model. */
  "other-model": (_good, { record }) => encodeRecord({ ...wrong(record), fingerprint: createHash("sha256").update(`other:${record.fingerprint}`).digest("hex") }),
  /** A record in a format version this build does not know (framing and checksum right). */
  "other-version": (_good, { record }) => frame(2, record.fingerprint, record.key, Buffer.from(JSON.stringify(wrong(record)))),
  /** A valid record of another request, under this request's file name. */
  misplaced: (_good, { record }) => encodeRecord({ ...wrong(record), key: sha256(Buffer.from(`misplaced:${record.key}`)) }),
} satisfies Record<string, ByteCorruption>;

const BYTE_DESCRIPTIONS: Record<keyof typeof BYTE_CORRUPTIONS, string> = {
  truncate: "truncated at a random byte (a torn write)",
  empty: "emptied (zero bytes)",
  "flip-bits": "1-8 random bits flipped",
  "zero-range": "a range of up to 64 bytes zeroed",
  "append-garbage": "random garbage appended",
  "null-bytes": "replaced with NUL bytes",
  "invalid-utf8": "replaced with invalid UTF-8",
  "invalid-utf8-payload": "a correctly framed and checksummed payload that is not UTF-8",
  "other-model": "replaced by another model's record of the same request",
  "other-version": "replaced by a record of another format version",
  misplaced: "replaced by another request's valid record",
};

const run = promisify(execFile);

async function releaseFifo(path: string): Promise<void> {
  // A reader blocked in open(2) on the FIFO is released by a writer opening it; EOF follows at once.
  try {
    const h = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    await h.close();
  } catch {
    // no reader (ENXIO) or already gone
  }
  await rm(path, { force: true, recursive: true });
}

const FILE_OPS: CorruptionOp[] = [
  {
    name: "directory",
    description: "the record file replaced by a non-empty directory",
    handling: "io-error",
    quick: true,
    async apply(path) {
      await rm(path, { force: true, recursive: true });
      await mkdir(path);
      await writeFile(join(path, "keep"), DIRECTORY_CONTENT);
    },
    cleanup: (path) => rm(path, { force: true, recursive: true }),
    inspectAfter: directoryLeft,
  },
  {
    name: "symlink-loop",
    description: "the record file replaced by a symbolic link to itself (ELOOP: unreadable, even for root)",
    handling: "io-error",
    quick: true,
    async apply(path) {
      await rm(path, { force: true, recursive: true });
      await symlink(basename(path), path);
    },
    cleanup: (path) => rm(path, { force: true, recursive: true }),
    inspectAfter: entryLeftOrReplaced("symlink", "symbolic link"),
  },
  {
    name: "unreadable",
    description: "the record file's mode set to 000 (root still reads it: then it must be served correctly)",
    handling: "maybe-readable",
    quick: true,
    async apply(path) {
      await chmod(path, 0o000);
    },
    cleanup: (path) => chmod(path, 0o644).catch(() => undefined),
  },
  {
    name: "fifo",
    description: "the record file replaced by a named pipe (FIFO) that nobody writes",
    handling: "io-error",
    // Opened without blocking since issue 7 (src/cache/cache-fs.ts): safe for the shared restart and the quick subset.
    quick: true,
    async apply(path) {
      await rm(path, { force: true, recursive: true });
      await run("mkfifo", ["-m", "0644", path]);
    },
    cleanup: releaseFifo,
    inspectAfter: entryLeftOrReplaced("fifo", "FIFO"),
  },
];

export const CORRUPTION_OPS: readonly CorruptionOp[] = [
  ...Object.entries(BYTE_CORRUPTIONS).map(([name, corrupt]): CorruptionOp => ({
    name,
    description: `the record file ${BYTE_DESCRIPTIONS[name as keyof typeof BYTE_CORRUPTIONS]}`,
    handling: "quarantine",
    quick: true,
    async apply(path, ctx) {
      let good: Buffer;
      try {
        good = await readFile(path);
      } catch {
        good = encodeRecord(ctx.record);
      }
      await writeFile(path, (corrupt as ByteCorruption)(good, ctx));
    },
  })),
  ...FILE_OPS,
];

export function corruptionOp(name: string): CorruptionOp {
  const op = CORRUPTION_OPS.find((o) => o.name === name);
  if (!op) throw new Error(`unknown corruption operation ${JSON.stringify(name)}`);
  return op;
}
