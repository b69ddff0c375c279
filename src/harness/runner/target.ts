/**
 * --target: any OpenAI-compatible server, but only on this machine (loopback), since load runs
 * send traffic only to 127.0.0.1. Its model id comes from /v1/models; its memory from /metrics
 * when it exports process_resident_memory_bytes, else memory is reported unavailable.
 */
import { isIP } from "node:net";
import type { MemorySource } from "../load/memory-source.js";
import { metricsMemorySource, parsePrometheusRss } from "../load/memory-source.js";

export type TargetResult = { ok: true; baseUrl: string } | { ok: false; error: string };

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

export function parseTarget(raw: string): TargetResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: `--target ${JSON.stringify(raw)} is not a URL; give one like http://127.0.0.1:8080` };
  }
  if (url.protocol !== "http:") return { ok: false, error: `--target must be an http:// URL (got ${url.protocol}); load runs talk plain HTTP to this machine` };
  if (!isLoopback(url.hostname)) {
    return { ok: false, error: `--target ${url.hostname} is not a loopback address: load runs only send traffic to this machine (127.0.0.1, ::1 or localhost)` };
  }
  if (url.username || url.password) return { ok: false, error: "--target must not carry credentials" };
  return { ok: true, baseUrl: url.origin };
}

export interface TargetProbe {
  modelId: string | null;
  memory: MemorySource | null;
  /** Why memory is unavailable. */
  memoryNote: string | null;
}

export async function probeTarget(baseUrl: string, headers: Record<string, string> = {}): Promise<TargetProbe> {
  let modelId: string | null = null;
  try {
    const res = await fetch(new URL("/v1/models", baseUrl), { headers, signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { data?: { id?: unknown }[] };
    const id = body.data?.[0]?.id;
    modelId = typeof id === "string" ? id : null;
  } catch {
    modelId = null;
  }
  let memoryNote: string | null = "the target has no /metrics with process_resident_memory_bytes";
  try {
    const res = await fetch(new URL("/metrics", baseUrl), { headers, signal: AbortSignal.timeout(5000) });
    if (res.ok && parsePrometheusRss(await res.text()) !== null) memoryNote = null;
  } catch {
    // keep the note
  }
  return { modelId, memory: memoryNote === null ? metricsMemorySource(baseUrl) : null, memoryNote };
}
