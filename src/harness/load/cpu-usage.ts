/**
 * How much of the machine's CPU went to processes other than the harness and the server during a
 * measured phase (Linux: /proc/stat and /proc/<pid>/stat). On a shared 2-core machine a busy
 * neighbour moves latency percentiles more than any change to the server would; such a run is
 * INVALID rather than red.
 */
import { readFile } from "node:fs/promises";

export interface CpuSnapshot {
  /** All CPUs, all states, in clock ticks. */
  totalTicks: number;
  /** Idle and iowait ticks. */
  idleTicks: number;
  /** User plus system ticks of the watched processes. */
  ownTicks: number;
}

/** Total and idle ticks from the aggregate `cpu` line of /proc/stat. */
export function parseProcStat(text: string): { total: number; idle: number } | null {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal [guest guest_nice are already inside user/nice]
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0) };
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15; the command name may contain spaces). */
export function parsePidStat(text: string): number | null {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

export async function cpuSnapshot(pids: readonly number[]): Promise<CpuSnapshot | null> {
  try {
    const stat = parseProcStat(await readFile("/proc/stat", "utf8"));
    if (!stat) return null;
    let own = 0;
    for (const pid of pids) {
      const t = parsePidStat(await readFile(`/proc/${pid}/stat`, "utf8"));
      if (t === null) return null;
      own += t;
    }
    return { totalTicks: stat.total, idleTicks: stat.idle, ownTicks: own };
  } catch {
    return null;
  }
}

/** Percent of all CPU capacity used by other processes between two snapshots; null when unknown. */
export function foreignCpuPct(a: CpuSnapshot | null, b: CpuSnapshot | null): number | null {
  if (!a || !b) return null;
  const total = b.totalTicks - a.totalTicks;
  if (total <= 0) return null;
  const busy = total - (b.idleTicks - a.idleTicks);
  const foreign = busy - (b.ownTicks - a.ownTicks);
  return Math.min(100, Math.max(0, (foreign / total) * 100));
}
