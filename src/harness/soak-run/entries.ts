/**
 * What a soak run writes to its journal (journal.jsonl, one checksummed JSON line each; see
 * src/harness/soak/journal-codec.ts):
 * - meta/start: once, first: name, planned duration, the resolved profile, the target, the gates,
 *   the environment. A resume reads everything it needs from here.
 * - meta/lifetime: a server lifetime begins (the run's start, or a resume that restarted the server).
 * - window: one closed window (WindowRecord plus the cache-hit lane, raw memory samples, canary).
 * - meta/interrupted: a signal stopped the run (a crash leaves no line: the missing end says it).
 * - meta/resumed: a resume continued the same server (a --target: not restarted, so no new lifetime).
 * - end: the run reached its planned duration.
 * (Type aliases, not interfaces, so they are assignable to the journal's JournalInput.)
 * Times named *Ms are on the run clock: monotonic milliseconds since the run started, counting only
 * time the soak was running (an interruption's downtime is not run time). `at` fields are wall-clock ISO.
 */
import type { EnvironmentInfo, ModelInfo } from "../report/types.js";
import type { HistogramJSON } from "../stats/histogram.js";
import type { JournalEntry } from "../soak/journal.js";
import type { WindowRecord } from "../soak/window.js";
import type { SoakProfile } from "./profile-types.js";

export type SoakTarget = { kind: "bundled"; args: string[]; env: Record<string, string> } | { kind: "target"; baseUrl: string };

export interface GateDef {
  id: string;
  expression: string;
}

export type MetaStart = {
  type: "meta";
  event: "start";
  v: 1;
  name: string;
  startedAt: string;
  toolVersion: string;
  plannedDurationMs: number;
  profile: SoakProfile;
  target: SoakTarget;
  gates: GateDef[];
  environment: EnvironmentInfo;
};

export type MemoryDetail = "rss+heap+external" | "rss" | "none";

export type MetaLifetime = {
  type: "meta";
  event: "lifetime";
  lifetime: number;
  atMs: number;
  at: string;
  reason: "start" | "resume";
  server: { pid: number | null; command: string[] | null; model: ModelInfo | null; memory: MemoryDetail; memoryNote: string };
};

export type MetaInterrupted = {
  type: "meta";
  event: "interrupted";
  atMs: number;
  at: string;
  reason: string;
};

export type MetaResumed = {
  type: "meta";
  event: "resumed";
  atMs: number;
  at: string;
  /** The server lifetime that continues. */
  lifetime: number;
};

export type EndEntry = {
  type: "end";
  atMs: number;
  at: string;
};

/** [run ms, RSS bytes, heap used bytes or null, external bytes or null] */
export type MemoryTuple = [number, number, number | null, number | null];

export type WindowPayload = {
  type: "window";
  lifetime: number;
  at: string;
  /** Shorter than the window length (the run's last window or an interrupted one). */
  partial: boolean;
  /** e2eMs/ttftMs: fresh lane, successful requests; requests: both lanes; index: the run's window number. */
  record: WindowRecord;
  /** Fresh-lane E2E of successful requests per prompt-size class (index into workload.promptSizes). */
  classes: (HistogramJSON | null)[];
  /** The cache-hit lane's end-to-end latency (successful requests). */
  repeat: { count: number; histogram: HistogramJSON | null; cacheHits?: number };
  memory: MemoryTuple[];
  canary: { reference?: string; changed?: string; latenciesMs: number[] };
  /**
   * The harness's own send lateness in this window (open loop; a send held back by the concurrency
   * cap counts from when a slot freed up). latenessP99Ms is absent in journals of older versions.
   */
  sends: { skippedCanaries: number; maxLatenessMs: number | null; latenessP99Ms?: number | null };
  /** The machine during this window: the share of its CPU (%) other processes used; absent in older journals. */
  host?: { foreignCpuPct: number | null };
  /** The request index the next window continues from (resume). */
  nextRequestIndex: number;
};

export type SoakEntry = MetaStart | MetaLifetime | MetaInterrupted | MetaResumed | EndEntry | WindowPayload;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** A journal entry as a soak entry, or null when it is not one this version understands. */
export function asSoakEntry(e: JournalEntry): SoakEntry | null {
  const x = e as Record<string, unknown>;
  if (x.type === "end") return isNum(x.atMs) ? (x as unknown as EndEntry) : null;
  if (x.type === "meta") {
    if (x.event === "start") return x.v === 1 && isNum(x.plannedDurationMs) && isObj(x.profile) && isObj(x.target) && Array.isArray(x.gates) && isObj(x.environment) ? (x as unknown as MetaStart) : null;
    if (x.event === "lifetime") return isNum(x.lifetime) && isNum(x.atMs) && isObj(x.server) ? (x as unknown as MetaLifetime) : null;
    if (x.event === "interrupted") return isNum(x.atMs) ? (x as unknown as MetaInterrupted) : null;
    if (x.event === "resumed") return isNum(x.atMs) && isNum(x.lifetime) ? (x as unknown as MetaResumed) : null;
    return null;
  }
  if (x.type === "window") {
    const r = x.record;
    const ok = isNum(x.lifetime) && isObj(r) && isNum(r.index) && isNum(r.startMs) && isNum(r.endMs) && isObj(r.requests) && isObj(r.e2eMs)
      && Array.isArray(x.classes) && isObj(x.repeat) && Array.isArray(x.memory) && isObj(x.canary) && isNum(x.nextRequestIndex);
    return ok ? (x as unknown as WindowPayload) : null;
  }
  return null;
}

/** Strips what the journal adds (seq, crc) so the payload can be appended. */
export function withoutSeq<T extends SoakEntry>(entry: T & { seq?: number }): T {
  const { seq: _seq, ...rest } = entry;
  return rest as T;
}
