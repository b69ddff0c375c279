/**
 * Reads the server's response-cache files from the host side of a bind mount: record files (`<key>.rec`)
 * in place, quarantined files (anywhere under a `quarantine/` directory) and write temp files (`*.tmp`).
 * Records are checked with the project's own codec, so "intact" means what the server means by it.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { RECORD_MAGIC, decodeRecord } from "../../../src/cache/record-codec.js";
import type { CorruptionReason } from "../../../src/cache/record-codec.js";

export interface CacheFiles {
  records: string[];
  quarantined: string[];
  temps: string[];
}

export async function listCacheFiles(root: string): Promise<CacheFiles> {
  const out: CacheFiles = { records: [], quarantined: [], temps: [] };
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if (path.split(sep).includes("quarantine")) out.quarantined.push(path);
    else if (e.name.endsWith(".tmp")) out.temps.push(path);
    else if (e.name.endsWith(".rec")) out.records.push(path);
  }
  return out;
}

/** Largest record the server accepts by default (disk-store maxRecordBytes). */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

/** Decodes one record file with the fingerprint its own header names; null when intact, else the reason. */
export async function recordProblem(path: string): Promise<CorruptionReason | null> {
  const buf = await readFile(path);
  let fingerprint = "";
  try {
    const headerEnd = buf.indexOf(0x0a, RECORD_MAGIC.length);
    fingerprint = String((JSON.parse(buf.subarray(RECORD_MAGIC.length, headerEnd).toString("latin1")) as { fp?: unknown }).fp ?? "");
  } catch {
    // A header that does not parse: decodeRecord names the reason below.
  }
  const decoded = decodeRecord(buf, { fingerprint, maxBytes: MAX_RECORD_BYTES, key: basename(path, ".rec") });
  return decoded.ok ? null : decoded.reason;
}

/** The fingerprint (`fp`) a record file's header names; null when the header does not parse. */
export async function recordFingerprint(path: string): Promise<string | null> {
  try {
    const buf = await readFile(path);
    const headerEnd = buf.indexOf(0x0a, RECORD_MAGIC.length);
    const fp = (JSON.parse(buf.subarray(RECORD_MAGIC.length, headerEnd).toString("latin1")) as { fp?: unknown }).fp;
    return typeof fp === "string" ? fp : null;
  } catch {
    return null;
  }
}
