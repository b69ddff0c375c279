/**
 * What the container tests ask the Docker engine directly (through testcontainers' client): state, kill,
 * logs, memory stats, and removal that never throws (it runs in afterAll/finally).
 */
import { getContainerRuntimeClient } from "testcontainers";

/** Every container the suite starts carries this label, so leftovers of an interrupted run can be swept. */
export const CONTAINER_LABEL = "gauntlet.test";

async function container(id: string) {
  const client = await getContainerRuntimeClient();
  return client.container.getById(id);
}

/** Removes a container and its anonymous volumes, whatever its state. Never throws; a missing one is fine. */
export async function removeContainer(id: string | undefined): Promise<void> {
  if (!id) return;
  try {
    await (await container(id)).remove({ force: true, v: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) {
      console.warn(`[containers] could not remove container ${id.slice(0, 12)}: ${(err as Error).message}`);
    }
  }
}

/** Removes every container labelled by this suite (running or not); returns how many there were. */
export async function removeLabelledContainers(): Promise<number> {
  const client = await getContainerRuntimeClient();
  const ours = await client.container.dockerode.listContainers({ all: true, filters: { label: [CONTAINER_LABEL] } });
  await Promise.all(ours.map((c) => removeContainer(c.Id)));
  return ours.length;
}

export interface ContainerState {
  running: boolean;
  status: string;
  oomKilled: boolean;
  exitCode: number;
}

export async function containerState(id: string): Promise<ContainerState> {
  const info = await (await container(id)).inspect();
  return { running: info.State.Running, status: info.State.Status, oomKilled: info.State.OOMKilled, exitCode: info.State.ExitCode };
}

/** docker kill --signal KILL, then waits until the container has exited. */
export async function killContainer(id: string): Promise<void> {
  const c = await container(id);
  await c.kill({ signal: "KILL" });
  await c.wait();
}

/** The last lines of the container's stdout and stderr, for failure messages. */
export async function containerLogs(id: string, tail = 40): Promise<string> {
  try {
    const buf = (await (await container(id)).logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return demuxDockerLog(buf);
  } catch (err) {
    return `(no logs: ${(err as Error).message})`;
  }
}

/** Docker frames a non-TTY container's stdout/stderr as [stream, 0, 0, 0, len(4 bytes BE)] + payload. */
function demuxDockerLog(buf: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len).toString("utf8"));
    i += 8 + len;
  }
  return i === 0 ? buf.toString("utf8") : parts.join("");
}

export interface MemoryStat {
  /** Monotonic ms (performance.now) when the sample was taken. */
  tMs: number;
  /** The cgroup's whole charge, page cache included (memory.usage_in_bytes / memory.current). */
  usageBytes: number;
  /** usage minus inactive file pages: what `docker stats` shows and what the kernel cannot drop. */
  workingSetBytes: number;
  /** Anonymous memory (v1 total_rss, v2 anon): the process's heap, native allocations and model weights. */
  anonBytes: number;
  limitBytes: number;
}

interface RawMemoryStats {
  usage?: number;
  limit?: number;
  stats?: Record<string, number | undefined>;
}

/** One memory sample from the Docker stats API ("one-shot": no two-sample wait for CPU figures). */
export async function memoryStat(id: string): Promise<MemoryStat> {
  const c = await container(id);
  const raw = (await c.stats({ stream: false, "one-shot": true } as { stream: false })) as { memory_stats?: RawMemoryStats };
  const tMs = performance.now();
  const m = raw.memory_stats ?? {};
  const s = m.stats ?? {};
  const usage = m.usage ?? Number.NaN;
  const inactiveFile = s.total_inactive_file ?? s.inactive_file ?? 0;
  const anon = s.total_rss ?? s.anon ?? Number.NaN;
  return { tMs, usageBytes: usage, workingSetBytes: usage - inactiveFile, anonBytes: anon, limitBytes: m.limit ?? Number.NaN };
}

/** The largest finite value of one field over the samples (0 when there is none). */
export function peakOf(samples: readonly MemoryStat[], field: "usageBytes" | "workingSetBytes" | "anonBytes"): number {
  return samples.reduce((m, s) => (Number.isFinite(s[field]) ? Math.max(m, s[field]) : m), 0);
}

/** Samples memory every `everyMs` until stop(); samples that fail (container gone) are skipped. */
export function startMemorySampler(id: string, everyMs: number): { samples: MemoryStat[]; stop: () => Promise<MemoryStat[]> } {
  const samples: MemoryStat[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const next = performance.now() + everyMs;
      try {
        samples.push(await memoryStat(id));
      } catch {
        // The container may be gone (killed on purpose); the caller judges the samples it has.
      }
      const wait = next - performance.now();
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
      return samples;
    },
  };
}
