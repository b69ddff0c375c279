/**
 * How much memory this process may use and how much its group uses now, from the cgroup files of the
 * process's own group (named in /proc/self/cgroup) under the mount `root` (cgroup v2: memory.max /
 * memory.current; v1: memory/<group>/memory.limit_in_bytes / memory.usage_in_bytes), else the machine's total
 * memory and the process RSS. The limit is the smallest one from the own group up to the mount root (a
 * parent's limit binds its children); in a container the own group's path may not exist under the mount
 * (the mount is the container's group), and the walk then ends at the root. Never throws: unreadable or
 * unparseable files fall through to the next source.
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
  /** The file naming this process's cgroups (default /proc/self/cgroup). */
  selfCgroup?: string | undefined;
  fs?: MemoryFs | undefined;
  /** The machine's total memory in bytes (default os.totalmem). */
  totalmem?: (() => number) | undefined;
}

export interface MemoryUsageOptions {
  root?: string | undefined;
  selfCgroup?: string | undefined;
  fs?: MemoryFs | undefined;
  /** The process's resident set size in bytes, used when no cgroup reports usage. */
  rss: () => number;
}

const DEFAULT_ROOT = "/sys/fs/cgroup";
const DEFAULT_SELF_CGROUP = "/proc/self/cgroup";
const nodeFs: MemoryFs = { readFile: (path, encoding) => readFile(path, encoding) };
/** cgroup v1 reports "no limit" as a huge page-aligned number (e.g. 9223372036854771712). */
const UNLIMITED_FROM = 2n ** 62n;

/**
 * The effective memory limit: a cgroup v2 limit, else a cgroup v1 limit, else the machine's memory.
 * A cgroup limit above the machine's memory counts as the machine's.
 */
export async function readMemoryLimit(opts: MemoryLimitOptions = {}): Promise<MemoryLimit> {
  const fs = opts.fs ?? nodeFs;
  const machine = (opts.totalmem ?? osTotalmem)();
  const groups = await groupDirs(fs, opts);
  const candidates: Array<[MemoryLimitSource, string[]]> = [
    ["cgroup-v2", groups.v2.map((d) => join(d, "memory.max"))],
    ["cgroup-v1", groups.v1.map((d) => join(d, "memory.limit_in_bytes"))],
  ];
  for (const [source, paths] of candidates) {
    let lowest: number | undefined;
    for (const path of paths) {
      const bytes = await readBytes(fs, path);
      if (bytes !== undefined && (lowest === undefined || bytes < lowest)) lowest = bytes;
    }
    if (lowest !== undefined && lowest <= machine) return { bytes: lowest, source };
  }
  return { bytes: machine, source: "machine" };
}

/** Current usage: the own group's cgroup v2 memory.current, else cgroup v1 memory.usage_in_bytes, else the process RSS. */
export async function readMemoryUsage(opts: MemoryUsageOptions): Promise<MemoryUsage> {
  const fs = opts.fs ?? nodeFs;
  const groups = await groupDirs(fs, opts);
  const candidates: Array<[MemoryUsageSource, string[]]> = [
    ["cgroup-v2", groups.v2.map((d) => join(d, "memory.current"))],
    ["cgroup-v1", groups.v1.map((d) => join(d, "memory.usage_in_bytes"))],
  ];
  for (const [source, paths] of candidates) {
    for (const path of paths) {
      const bytes = await readBytes(fs, path, true);
      if (bytes !== undefined) return { bytes, source };
    }
  }
  return { bytes: opts.rss(), source: "process-rss" };
}

/**
 * The directories to read, own group first, then each parent up to the mount root, for v2 (`root`) and for
 * the v1 memory controller (`root/memory`). Without a usable /proc/self/cgroup line: the root alone.
 */
async function groupDirs(fs: MemoryFs, opts: { root?: string | undefined; selfCgroup?: string | undefined }): Promise<{ v2: string[]; v1: string[] }> {
  const root = opts.root ?? DEFAULT_ROOT;
  let v2: string | null = null;
  let v1: string | null = null;
  try {
    const text = await fs.readFile(opts.selfCgroup ?? DEFAULT_SELF_CGROUP, "utf8");
    for (const line of text.split("\n")) {
      const m = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
      if (!m) continue;
      if (m[1] === "0" && m[2] === "") v2 ??= m[3] as string;
      else if ((m[2] as string).split(",").includes("memory")) v1 ??= m[3] as string;
    }
  } catch {
    // no /proc (not Linux) or unreadable: the mount root only
  }
  return { v2: upFrom(root, v2), v1: upFrom(join(root, "memory"), v1) };
}

/** `base/<group>`, its parents, ..., `base`; just `base` for a missing or unsafe group path. */
function upFrom(base: string, group: string | null): string[] {
  const parts = (group ?? "").split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) return [base];
  const dirs: string[] = [];
  for (let i = parts.length; i >= 0; i--) dirs.push(join(base, ...parts.slice(0, i)));
  return dirs;
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
