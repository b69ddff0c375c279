/**
 * The soak run's state, folded from journal entries in bounded memory: the live run and a rebuild
 * from the journal feed the same entries through the same fold, so they give the same report.
 *
 * Held: run totals and merged histograms (bucketed, bounded), a thinned memory series and a
 * thinned per-window latency series (ThinList caps), and the latency windows of the stability
 * verdict (one BlockLog per prompt-size class, 56 bytes per planned journal window allocated up
 * front: 4 h at 60 s windows and 3 classes is 40 KB). A latency window is, per prompt-size class,
 * the smallest run of consecutive journal windows of one server lifetime holding at least
 * `minRequests` fresh requests of that class: one journal window at tens of requests a second,
 * dozens at the presets' 2 requests a minute. Classes are judged apart because a 32-sentence
 * prompt takes ~10x longer than a 1-sentence one: mixed, p95/p50 measures the mix, not the server.
 */
import { LatencyHistogram } from "../stats/histogram.js";
import { BlockLog, ThinList } from "./bounded.js";
import type { BlockRow } from "./bounded.js";
import type { EndEntry, MetaLifetime, MetaStart, SoakEntry, WindowPayload } from "./entries.js";
import { BUILTIN_PROFILE } from "./profile-types.js";

export interface SoakStateOptions {
  /** Memory samples kept for the verdict and the chart. Default 1024. */
  memoryPointCap?: number;
  /** Per-window latency points kept for the chart. Default 1024. */
  seriesCap?: number;
  maxErrorKinds?: number;
}

export interface MemoryPoint {
  tMs: number;
  rss: number;
  heap: number | null;
  ext: number | null;
  lifetime: number;
}

export interface LatencyPoint {
  tMs: number;
  p50: number | null;
  p95: number | null;
}

export interface SoakSnapshot {
  start: MetaStart;
  lifetimes: readonly MetaLifetime[];
  interruptions: readonly { atMs: number; at: string; reason: string }[];
  /** Resumes that continued the same server (--target). */
  resumptions: readonly { atMs: number; at: string; lifetime: number }[];
  ended: EndEntry | null;
  windows: { count: number; partial: number; lastIndex: number; lastEndMs: number; lastAt: string | null; nextRequestIndex: number };
  requests: { total: number; ok: number; failed: number; errors: Record<string, number> };
  /** all: both lanes; fresh: the judged lane; repeat: the cache-hit lane; canary: the canary lane. */
  hist: { all: LatencyHistogram; fresh: LatencyHistogram; ttft: LatencyHistogram; repeat: LatencyHistogram; canary: LatencyHistogram };
  canary: { reference: string | null; total: number; unchanged: number; changed: number; failed: number; failures: Record<string, number>; firstChange: { window: number; text: string } | null; skipped: number };
  memory: { points: readonly MemoryPoint[]; seen: number; withExternal: number };
  latency: readonly LatencyPoint[];
  /** The canary lane per window: median and p95 (nearest rank) of its latencies. */
  canaryLatency: readonly LatencyPoint[];
  /** Per prompt-size class: closed latency windows and the one still filling. */
  blocks: { log: BlockLog; open: BlockRow | null }[];
  loop: { measuredWindows: number; laggingWindows: number; maxP99Ms: number | null };
  /** The machine: windows where other processes' CPU was measured, those above the bound, mean and max (%). */
  host: { measuredWindows: number; noisyWindows: number; meanForeignPct: number | null; maxForeignPct: number | null };
  /** The harness's send lateness: windows with a p99, those above the bound, the largest p99. */
  lateness: { measuredWindows: number; laggingWindows: number; maxP99Ms: number | null };
  maxLatenessMs: number | null;
  /** Answers the server marked as cache hits (x-cache-hit: true). */
  cacheHits: number;
  /** Journal entries this version did not understand (counted, never dropped silently). */
  unreadable: number;
}

export interface SoakState {
  add(entry: SoakEntry): void;
  addUnreadable(): void;
  snapshot(): SoakSnapshot;
  /** Numbers held, including preallocated capacity (for memory tests). */
  retainedSize(): number;
}

const MAX_LIFETIMES = 1000;
const MAX_INTERRUPTIONS = 100;

export function createSoakState(start: MetaStart, options: SoakStateOptions = {}): SoakState {
  const maxKinds = options.maxErrorKinds ?? 16;
  const { windowMs, verdict } = start.profile;
  const memory = new ThinList<MemoryPoint>(options.memoryPointCap ?? 1024);
  const latency = new ThinList<LatencyPoint>(options.seriesCap ?? 1024);
  const canaryLatency = new ThinList<LatencyPoint>(options.seriesCap ?? 1024);
  const classCount = start.profile.workload.promptSizes.length;
  const blocks = Array.from({ length: classCount }, () => new BlockLog(start.plannedDurationMs / windowMs + 8));
  const open: ({ row: BlockRow; hist: LatencyHistogram } | null)[] = Array.from({ length: classCount }, () => null);
  const lifetimes: MetaLifetime[] = [];
  const interruptions: SoakSnapshot["interruptions"][number][] = [];
  const resumptions: SoakSnapshot["resumptions"][number][] = [];
  let ended: EndEntry | null = null;
  const windows = { count: 0, partial: 0, lastIndex: -1, lastEndMs: 0, lastAt: null as string | null, nextRequestIndex: 0 };
  const requests = { total: 0, ok: 0, failed: 0, errors: {} as Record<string, number> };
  const hist = { all: new LatencyHistogram(), fresh: new LatencyHistogram(), ttft: new LatencyHistogram(), repeat: new LatencyHistogram(), canary: new LatencyHistogram() };
  const canary = { reference: null as string | null, total: 0, unchanged: 0, changed: 0, failed: 0, failures: {} as Record<string, number>, firstChange: null as { window: number; text: string } | null, skipped: 0 };
  const loop = { measuredWindows: 0, laggingWindows: 0, maxP99Ms: null as number | null };
  const lateness = { measuredWindows: 0, laggingWindows: 0, maxP99Ms: null as number | null };
  const host = { measuredWindows: 0, noisyWindows: 0, sumForeignPct: 0, maxForeignPct: null as number | null };
  const maxForeignPct = verdict.maxForeignCpuPct ?? BUILTIN_PROFILE.verdict.maxForeignCpuPct;
  // Journals of versions before this bound existed carry no value for it.
  const maxLatenessP99 = verdict.maxSendLatenessP99Ms ?? BUILTIN_PROFILE.verdict.maxSendLatenessP99Ms;
  let maxLatenessMs: number | null = null;
  let withExternal = 0;
  let cacheHits = 0;
  let unreadable = 0;

  const bump = (counts: Record<string, number>, kind: string, n: number): void => {
    const key = kind in counts || Object.keys(counts).length < maxKinds ? kind : "other";
    counts[key] = (counts[key] ?? 0) + n;
  };
  const closeOpen = (c: number): void => {
    const o = open[c];
    if (!o) return;
    blocks[c]!.push({ ...o.row, p50: o.hist.percentile(50), p95: o.hist.percentile(95), count: o.hist.count });
    open[c] = null;
  };
  const fromJson = (json: unknown): LatencyHistogram | null => {
    try {
      return json === undefined || json === null ? null : LatencyHistogram.fromJSON(json);
    } catch {
      return null;
    }
  };

  const addWindow = (w: WindowPayload): void => {
    const r = w.record;
    windows.count++;
    if (w.partial) windows.partial++;
    windows.lastIndex = Math.max(windows.lastIndex, r.index);
    windows.lastEndMs = Math.max(windows.lastEndMs, r.endMs);
    windows.lastAt = w.at;
    windows.nextRequestIndex = Math.max(windows.nextRequestIndex, w.nextRequestIndex);
    requests.total += r.requests.total;
    requests.ok += r.requests.ok;
    requests.failed += r.requests.failed;
    for (const [k, n] of Object.entries(r.requests.errors)) bump(requests.errors, k, n);

    const f = w.host?.foreignCpuPct;
    const foreign = typeof f === "number" && Number.isFinite(f) ? f : null;
    if (foreign !== null) {
      host.measuredWindows++;
      host.sumForeignPct += foreign;
      host.maxForeignPct = Math.max(host.maxForeignPct ?? 0, foreign);
      if (foreign > maxForeignPct) host.noisyWindows++;
    }

    const fresh = fromJson(r.e2eMs.histogram);
    const ttft = fromJson(r.ttftMs.histogram);
    const repeat = fromJson(w.repeat.histogram);
    if (fresh) { hist.fresh.merge(fresh); hist.all.merge(fresh); }
    if (ttft) hist.ttft.merge(ttft);
    if (repeat) { hist.repeat.merge(repeat); hist.all.merge(repeat); }
    cacheHits += w.repeat.cacheHits ?? 0;

    for (let c = 0; c < classCount; c++) {
      if (open[c] && open[c]!.row.lifetime !== w.lifetime) closeOpen(c);
      const o = (open[c] ??= { row: { startMs: r.startMs, endMs: r.endMs, p50: null, p95: null, count: 0, lifetime: w.lifetime, foreignPct: null }, hist: new LatencyHistogram() });
      const h = fromJson(w.classes[c]);
      if (h) o.hist.merge(h);
      o.row.endMs = r.endMs;
      if (foreign !== null) o.row.foreignPct = Math.max(o.row.foreignPct ?? 0, foreign);
      if (o.hist.count >= verdict.latency.minRequests) closeOpen(c);
    }
    latency.push({ tMs: (r.startMs + r.endMs) / 2, p50: r.e2eMs.p50, p95: r.e2eMs.p95 });

    for (const [t, rss, heap, ext] of w.memory) {
      if (!Number.isFinite(t) || !Number.isFinite(rss)) continue;
      if (ext !== null) withExternal++;
      memory.push({ tMs: t, rss, heap, ext, lifetime: w.lifetime });
    }

    const c = r.canaries;
    canary.total += c.total;
    canary.unchanged += c.ok;
    for (const [k, n] of Object.entries(c.failures)) {
      bump(canary.failures, k, n);
      if (k === "changed") canary.changed += n;
      else canary.failed += n;
    }
    canary.skipped += w.sends.skippedCanaries;
    if (canary.reference === null && typeof w.canary.reference === "string") canary.reference = w.canary.reference;
    if (canary.firstChange === null && typeof w.canary.changed === "string") canary.firstChange = { window: r.index, text: w.canary.changed };
    const canaryMs = w.canary.latenciesMs.filter((ms) => Number.isFinite(ms) && ms >= 0).sort((a, b) => a - b);
    for (const ms of canaryMs) hist.canary.record(ms);
    if (canaryMs.length > 0) {
      const rank = (p: number) => canaryMs[Math.max(0, Math.ceil((p / 100) * canaryMs.length) - 1)]!;
      canaryLatency.push({ tMs: (r.startMs + r.endMs) / 2, p50: rank(50), p95: rank(95) });
    }

    const p99 = r.eventLoopDelayMs.p99;
    if (p99 !== null) {
      loop.measuredWindows++;
      loop.maxP99Ms = Math.max(loop.maxP99Ms ?? 0, p99);
      if (p99 >= verdict.maxEventLoopDelayP99Ms) loop.laggingWindows++;
    }
    if (w.sends.maxLatenessMs !== null) maxLatenessMs = Math.max(maxLatenessMs ?? 0, w.sends.maxLatenessMs);
    const lateP99 = w.sends.latenessP99Ms;
    if (typeof lateP99 === "number" && Number.isFinite(lateP99)) {
      lateness.measuredWindows++;
      lateness.maxP99Ms = Math.max(lateness.maxP99Ms ?? 0, lateP99);
      if (lateP99 > maxLatenessP99) lateness.laggingWindows++;
    }
  };

  return {
    add(e) {
      if (e.type === "window") addWindow(e);
      else if (e.type === "end") ended = e;
      else if (e.event === "lifetime") {
        for (let c = 0; c < classCount; c++) closeOpen(c);
        if (lifetimes.length < MAX_LIFETIMES) lifetimes.push(e);
      } else if (e.event === "interrupted") {
        if (interruptions.length < MAX_INTERRUPTIONS) interruptions.push({ atMs: e.atMs, at: e.at, reason: e.reason });
      } else if (e.event === "resumed") {
        // The windows before and after the pause are not consecutive: latency windows do not span it.
        for (let c = 0; c < classCount; c++) closeOpen(c);
        if (resumptions.length < MAX_INTERRUPTIONS) resumptions.push({ atMs: e.atMs, at: e.at, lifetime: e.lifetime });
      }
    },
    addUnreadable() {
      unreadable++;
    },
    snapshot: () => ({
      start,
      lifetimes,
      interruptions,
      resumptions,
      ended,
      windows: { ...windows },
      requests: { ...requests, errors: { ...requests.errors } },
      hist,
      canary: { ...canary },
      memory: { points: memory.items, seen: memory.seen, withExternal },
      latency: latency.items,
      canaryLatency: canaryLatency.items,
      blocks: blocks.map((log, c) => {
        const o = open[c];
        return { log, open: o ? { ...o.row, p50: o.hist.percentile(50), p95: o.hist.percentile(95), count: o.hist.count } : null };
      }),
      loop: { ...loop },
      lateness: { ...lateness },
      host: { measuredWindows: host.measuredWindows, noisyWindows: host.noisyWindows, meanForeignPct: host.measuredWindows > 0 ? host.sumForeignPct / host.measuredWindows : null, maxForeignPct: host.maxForeignPct },
      maxLatenessMs,
      cacheHits,
      unreadable,
    }),
    retainedSize() {
      const h = (x: LatencyHistogram): number => {
        const j = x.toJSON();
        return (j.exact?.length ?? 0) + (j.buckets?.length ?? 0);
      };
      return memory.items.length * 5 + latency.items.length * 3 + canaryLatency.items.length * 3 + blocks.reduce((a, b) => a + b.capacity, 0) + Object.keys(requests.errors).length +
        Object.keys(canary.failures).length + lifetimes.length + interruptions.length + resumptions.length +
        h(hist.all) + h(hist.fresh) + h(hist.ttft) + h(hist.repeat) + h(hist.canary) + open.reduce((a, o) => a + (o ? h(o.hist) : 0), 0);
    },
  };
}
