/**
 * How much memory this process may use and how much its group uses now, from the cgroup files under `root`
 * (cgroup v2: memory.max / memory.current; v1: memory/memory.limit_in_bytes / memory/memory.usage_in_bytes),
 * else the machine's total memory and the process RSS. In a container `root` (/sys/fs/cgroup) is the
 * container's own group. Never throws: unreadable or unparseable files fall through to the next source.
 */
import { readFile } from "node:fs/promises";
import { totalmem as osTotalmem } from "node:os";
import { join } from "node:path";

export interface MemoryFs {
  readFile(path: string, encoding: "utf8"): Promise<string>;
}

export type MemoryLimitSource = "cgroup-v2" | "cgroup-v1" | "machine";
export type MemoryUsageSource = "cgroup-v2" | "cgroup-v1" | "process-rss";

export interface MemoryLimit {
  bytes: number;
  source: MemoryLimitSource;
}

export interface MemoryUsage {
  bytes: number;
  source: MemoryUsageSource;
}

export interface MemoryLimitOptions {
  /** cgroup mount point (default /sys/fs/cgroup). */
  root?: string | undefined;
  fs?: MemoryFs | undefined;
  /** The machine's total memory in bytes (default os.totalmem). */
  totalmem?: (() => number) | undefined;
}

export interface MemoryUsageOptions {
  root?: string | undefined;
  fs?: MemoryFs | undefined;
  /** The process's resident set size in bytes, used when no cgroup reports usage. */
  rss: () => number;
}

const DEFAULT_ROOT = "/sys/fs/cgroup";
const nodeFs: MemoryFs = { readFile: (path, encoding) => readFile(path, encoding) };
/** cgroup v1 reports "no limit" as a huge page-aligned number (e.g. 9223372036854771712). */
const UNLIMITED_FROM = 2n ** 62n;

/**
 * The effective memory limit: a cgroup v2 limit, else a cgroup v1 limit, else the machine's memory.
 * A cgroup limit above the machine's memory counts as the machine's.
 */
export async function readMemoryLimit(opts: MemoryLimitOptions = {}): Promise<MemoryLimit> {
  const root = opts.root ?? DEFAULT_ROOT;
  const fs = opts.fs ?? nodeFs;
  const machine = (opts.totalmem ?? osTotalmem)();
  const candidates: Array<[MemoryLimitSource, string]> = [
    ["cgroup-v2", join(root, "memory.max")],
    ["cgroup-v1", join(root, "memory", "memory.limit_in_bytes")],
  ];
  for (const [source, path] of candidates) {
    const bytes = await readBytes(fs, path);
    if (bytes !== undefined && bytes <= machine) return { bytes, source };
  }
  return { bytes: machine, source: "machine" };
}

/** Current usage: cgroup v2 memory.current, else cgroup v1 memory.usage_in_bytes, else the process RSS. */
export async function readMemoryUsage(opts: MemoryUsageOptions): Promise<MemoryUsage> {
  const root = opts.root ?? DEFAULT_ROOT;
  const fs = opts.fs ?? nodeFs;
  const candidates: Array<[MemoryUsageSource, string]> = [
    ["cgroup-v2", join(root, "memory.current")],
    ["cgroup-v1", join(root, "memory", "memory.usage_in_bytes")],
  ];
  for (const [source, path] of candidates) {
    const bytes = await readBytes(fs, path, true);
    if (bytes !== undefined) return { bytes, source };
  }
  return { bytes: opts.rss(), source: "process-rss" };
}

/** A byte count from a cgroup file; undefined for "max", huge "unlimited" values, garbage or a read error. */
async function readBytes(fs: MemoryFs, path: string, allowZero = false): Promise<number | undefined> {
  let text: string;
  try {
    text = (await fs.readFile(path, "utf8")).trim();
  } catch {
    return undefined;
  }
  if (!/^\d{1,20}$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value >= UNLIMITED_FROM || (value === 0n && !allowZero)) return undefined;
  return Number(value);
}
