/**
 * Where the server's memory comes from. The bundled server's pid is known, so its RSS is read from
 * /proc/<pid>/status (Linux); a --target server's from its /metrics `process_resident_memory_bytes`
 * when it exports one. Otherwise memory is unavailable, never invented.
 */
import { readFile } from "node:fs/promises";

/** Resident set size in bytes, or null when it cannot be read right now. */
export type MemorySource = () => Promise<number | null>;

/** VmRSS from the text of /proc/<pid>/status, in bytes; null when absent. */
export function parseProcStatusRss(text: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** The value of `process_resident_memory_bytes` in Prometheus text exposition; null when absent. */
export function parsePrometheusRss(text: string): number | null {
  const m = /^process_resident_memory_bytes(?:\{[^}]*\})?\s+([0-9.eE+-]+)(?:\s+\d+)?\s*$/m.exec(text);
  if (!m) return null;
  const v = Number(m[1]);
  return Number.isFinite(v) && v >= 0 ? v : null;
}

export function procMemorySource(pid: number): MemorySource {
  return async () => {
    try {
      return parseProcStatusRss(await readFile(`/proc/${pid}/status`, "utf8"));
    } catch {
      return null;
    }
  };
}

export function metricsMemorySource(baseUrl: string, timeoutMs = 2000): MemorySource {
  return async () => {
    try {
      const res = await fetch(new URL("/metrics", baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) return null;
      return parsePrometheusRss(await res.text());
    } catch {
      return null;
    }
  };
}
