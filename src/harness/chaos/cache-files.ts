/** Looking at the server's record directory from outside: quarantined files, record decoding, temp files. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeRecord } from "../../cache/record-codec.js";
import type { DecodeResult } from "../../cache/record-codec.js";
import { getJson, sendRaw } from "./http-client.js";
import { health } from "./main-context.js";
import type { MainContext } from "./main-context.js";

/** The quarantine file name holding `key`'s record (`<time>-<seq>.<key>.rec.<reason>`), or null. */
export async function quarantinedName(recordDir: string, key: string): Promise<string | null> {
  try {
    return (await readdir(join(recordDir, "quarantine"))).find((n) => n.includes(`.${key}.rec.`)) ?? null;
  } catch {
    return null;
  }
}

/** Decodes the record file at `path` as the server would; null when it cannot be read as a file. */
export async function decodeFile(path: string, fingerprint: string, key?: string): Promise<DecodeResult | null> {
  try {
    return decodeRecord(await readFile(path), { fingerprint, maxBytes: 8 << 20, key });
  } catch {
    return null;
  }
}

export async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Temp files of interrupted writes (`<key>.rec.<seq>-<rnd>.tmp`). */
export async function tempFiles(recordDir: string): Promise<string[]> {
  return (await listNames(recordDir)).filter((n) => n.endsWith(".tmp"));
}

/** Record files (`<key>.rec`) that are regular files but do not decode, except those in `skip`. */
export async function undecodableRecords(recordDir: string, fingerprint: string, skip: ReadonlySet<string>): Promise<string[]> {
  const bad: string[] = [];
  for (const name of await listNames(recordDir)) {
    if (!/^[0-9a-f]{64}\.rec$/.test(name) || skip.has(name)) continue;
    const decoded = await decodeFile(join(recordDir, name), fingerprint, name.slice(0, 64));
    if (decoded !== null && !decoded.ok) bad.push(`${name.slice(0, 12)}… (${decoded.reason})`);
  }
  return bad;
}

/** Whether /health says the response cache is bypassed (its breaker is open or half-open). */
export async function cacheBypassed(ctx: MainContext): Promise<boolean> {
  const reasons = (await health(ctx))?.reasons;
  return Array.isArray(reasons) && reasons.some((r) => typeof r === "string" && r.includes("response cache"));
}

/** /cache says the start-up scan of the record directory is over. */
export async function scanComplete(ctx: MainContext): Promise<boolean> {
  const responses = (await getJson(ctx.server.baseUrl, "/cache", 3000)).json?.responses as { scanComplete?: unknown; diskAvailable?: unknown } | null | undefined;
  return responses?.scanComplete === true || responses?.diskAvailable === false;
}

/** The sum of gauntlet_cache_corruptions_total over its reasons in /metrics; null when not exposed. */
export async function corruptionsCounted(ctx: MainContext): Promise<number | null> {
  const r = await sendRaw(ctx.server.baseUrl, { method: "GET", path: "/metrics", timeoutMs: 5000, keepBytes: 1 << 21 });
  if (r.status !== 200) return null;
  const lines = r.body.split("\n").filter((l) => l.startsWith("gauntlet_cache_corruptions_total"));
  if (lines.length === 0) return null;
  return lines.reduce((sum, l) => sum + (Number(l.slice(l.lastIndexOf(" ") + 1)) || 0), 0);
}
