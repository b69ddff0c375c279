/**
 * The server's memory for the soak verdict: RSS, V8 heap used and external memory.
 * - RSS: /proc/<pid>/status for the bundled server (its pid is known); for a --target, the
 *   `memory.rss_mb` of its /v1/metrics JSON, else Prometheus `process_resident_memory_bytes`.
 * - heap/external: `memory.heap_used_mb` / `memory.external_mb` of /v1/metrics JSON when the server
 *   has them; otherwise the run degrades to RSS only and the report says so.
 * Probed once at start (`detail`, `note`); a failed read later leaves that sample's fields unknown.
 */
import { parsePrometheusRss, procMemorySource } from "../load/memory-source.js";
import type { MemoryDetail } from "./entries.js";
import type { ServerMemoryReading } from "./run-loop.js";

const MiB = 1024 * 1024;

export interface ServerMemoryReader {
  read(): Promise<ServerMemoryReading | null>;
  detail: MemoryDetail;
  note: string;
}

export interface ServerMemoryDeps {
  pid: number | null;
  readProcRss: () => Promise<number | null>;
  /** GET /v1/metrics?category=memory as JSON; null on any failure. */
  fetchJson: () => Promise<unknown>;
  /** GET /metrics text; null on any failure. */
  fetchText: () => Promise<string | null>;
}

const mb = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v * MiB : null);

export function parseMetricsMemory(body: unknown): ServerMemoryReading | null {
  const m = typeof body === "object" && body !== null ? (body as { memory?: Record<string, unknown> }).memory : undefined;
  if (typeof m !== "object" || m === null) return null;
  const rss = mb(m.rss_mb);
  const heapUsed = mb(m.heap_used_mb);
  const external = mb(m.external_mb);
  return rss === null && heapUsed === null && external === null ? null : { rss: rss ?? Number.NaN, heapUsed, external };
}

export async function createServerMemoryReader(d: ServerMemoryDeps): Promise<ServerMemoryReader> {
  const json = parseMetricsMemory(await d.fetchJson());
  const hasDetail = json !== null && json.heapUsed !== null && json.external !== null;
  const detailFrom = async () => {
    const j = hasDetail ? parseMetricsMemory(await d.fetchJson()) : null;
    return { heapUsed: j?.heapUsed ?? null, external: j?.external ?? null };
  };
  if (d.pid !== null && (await d.readProcRss()) !== null) {
    return {
      detail: hasDetail ? "rss+heap+external" : "rss",
      note: hasDetail ? `RSS from /proc/${d.pid}/status; heap and external from /v1/metrics` : `RSS only, from /proc/${d.pid}/status (the server's /v1/metrics has no memory section with heap and external)`,
      async read() {
        const [rss, rest] = await Promise.all([d.readProcRss(), detailFrom()]);
        return rss === null ? null : { rss, ...rest };
      },
    };
  }
  if (json !== null && Number.isFinite(json.rss)) {
    return {
      detail: hasDetail ? "rss+heap+external" : "rss",
      note: hasDetail ? "RSS, heap and external from the target's /v1/metrics" : "RSS only, from the target's /v1/metrics",
      async read() {
        const j = parseMetricsMemory(await d.fetchJson());
        return j === null || !Number.isFinite(j.rss) ? null : j;
      },
    };
  }
  const text = await d.fetchText();
  if (text !== null && parsePrometheusRss(text) !== null) {
    return {
      detail: "rss",
      note: "RSS only, from the target's /metrics process_resident_memory_bytes",
      async read() {
        const t = await d.fetchText();
        const rss = t === null ? null : parsePrometheusRss(t);
        return rss === null ? null : { rss, heapUsed: null, external: null };
      },
    };
  }
  return { detail: "none", note: "unavailable: no /proc for the server and no memory in its /v1/metrics or /metrics", read: async () => null };
}

/** The real dependencies: /proc when the pid is known, HTTP to the server otherwise. */
export function httpMemoryDeps(baseUrl: string, pid: number | null, timeoutMs = 2000): ServerMemoryDeps {
  const get = async (path: string) => {
    try {
      const res = await fetch(new URL(path, baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? res : null;
    } catch {
      return null;
    }
  };
  return {
    pid,
    readProcRss: pid === null ? async () => null : procMemorySource(pid),
    fetchJson: async () => {
      try {
        return (await (await get("/v1/metrics?category=memory"))?.json()) ?? null;
      } catch {
        return null;
      }
    },
    fetchText: async () => {
      try {
        return (await (await get("/metrics"))?.text()) ?? null;
      } catch {
        return null;
      }
    },
  };
}
