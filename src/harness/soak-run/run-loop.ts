/**
 * One segment of a soak run (from the start or a resume, to the planned end or an interruption):
 * sends the mixed workload (open loop at `ratePerSecond` with at most `concurrency` in flight, or a
 * closed loop), one canary per window (it waits for a free slot like any request), samples the server's memory and the harness's event-loop
 * delay, and closes a window every `windowMs` (createWindowAggregator) into a WindowPayload handed
 * to `onWindow` (journal, state, reports), in order, without pausing the load.
 *
 * Everything comes in through `deps` (clock, send, memory, delay), so a fake clock runs thousands of
 * windows in a test. The segment's own memory is one window's state. Times are on the run clock:
 * `startRunMs` plus monotonic time since the segment began.
 */
import type { Clock } from "../load/clock.js";
import { foreignCpuPct } from "../load/cpu-usage.js";
import type { CpuSnapshot } from "../load/cpu-usage.js";
import type { RequestRecord } from "../load/types.js";
import type { PlannedRequest } from "../scenarios/plan.js";
import { createWindowAggregator } from "../soak/window.js";
import { LatencyHistogram } from "../stats/histogram.js";
import { ThinList } from "./bounded.js";
import type { MemoryTuple, WindowPayload } from "./entries.js";
import type { SoakProfile } from "./profile-types.js";
import { canaryRequest, soakRequest } from "./workload.js";

export interface ServerMemoryReading {
  rss: number;
  heapUsed: number | null;
  external: number | null;
}

export interface SegmentPlan {
  profile: SoakProfile;
  model: string | null;
  lifetime: number;
  startRunMs: number;
  endRunMs: number;
  firstWindowIndex: number;
  firstRequestIndex: number;
  canaryReference: string | null;
}

export interface LiveStatus {
  runMs: number;
  endRunMs: number;
  windowMs: number;
  windowsDone: number;
  inFlight: number;
  p50: number | null;
  p95: number | null;
  rssBytes: number | null;
}

export interface LoopDeps {
  clock: Clock;
  send: (plan: PlannedRequest) => Promise<RequestRecord>;
  readMemory: () => Promise<ServerMemoryReading | null>;
  /** The harness's event-loop delay (ms) since the previous call; null when unknown. */
  loopDelayMs?: () => number | null;
  /**
   * CPU ticks of the machine and of the harness and server processes (cpuSnapshot of
   * src/harness/load/cpu-usage.ts), taken at the start and at each window's close: each window
   * records the share of the machine's CPU other processes used. Absent: not measured.
   */
  cpuSnapshot?: () => Promise<CpuSnapshot | null>;
  wallClock?: () => Date;
  signal?: AbortSignal;
  /** Called once per closed window, in order; a rejection stops the segment. */
  onWindow: (w: WindowPayload) => Promise<void>;
  onTick?: (s: LiveStatus) => void;
  /** Default 1000. */
  tickMs?: number;
  /** How long an interrupted segment waits for requests in flight. Default 5000. */
  abortDrainMs?: number;
}

export interface SegmentResult {
  interrupted: boolean;
  windows: number;
  endRunMs: number;
  nextRequestIndex: number;
  canaryReference: string | null;
}

const MAX_MEMORY_PER_WINDOW = 600;

interface Extras {
  classes: LatencyHistogram[];
  repeat: LatencyHistogram;
  live: LatencyHistogram;
  memory: ThinList<MemoryTuple>;
  canaryMs: number[];
  /** The harness's own send lateness (ms) of this window's open-loop sends. */
  lateness: LatencyHistogram;
  reference?: string;
  changed?: string;
  skippedCanaries: number;
  maxLatenessMs: number | null;
  events: number;
  cacheHits: number;
}

const freshExtras = (classes: number): Extras => ({
  classes: Array.from({ length: classes }, () => new LatencyHistogram()),
  repeat: new LatencyHistogram(), live: new LatencyHistogram(), memory: new ThinList(MAX_MEMORY_PER_WINDOW),
  canaryMs: [], lateness: new LatencyHistogram(), skippedCanaries: 0, maxLatenessMs: null, events: 0, cacheHits: 0,
});

export async function runSegment(plan: SegmentPlan, deps: LoopDeps): Promise<SegmentResult> {
  const { clock, signal } = deps;
  const { profile } = plan;
  let lastCpu: CpuSnapshot | null = deps.cpuSnapshot ? await deps.cpuSnapshot() : null;
  const origin = clock.now();
  const runNow = () => clock.now() - origin + plan.startRunMs;
  const agg = createWindowAggregator({ now: runNow, windowMs: profile.windowMs, histogram: () => new LatencyHistogram() });
  const interval = profile.ratePerSecond === null ? 0 : 1000 / profile.ratePerSecond;
  const canaryOffset = Math.min(profile.windowMs * 0.1, 5000);
  const tickMs = deps.tickMs ?? 1000;
  const classCount = profile.workload.promptSizes.length;
  let x = freshExtras(classCount);
  let windowIndex = plan.firstWindowIndex;
  let requestIndex = plan.firstRequestIndex;
  let reference = plan.canaryReference;
  let inFlight = 0;
  /** When a slot last freed up after all `concurrency` were busy (run ms). */
  let freedAt = Number.NEGATIVE_INFINITY;
  let canaryInFlight = false;
  let reading: Promise<void> | null = null;
  let lastRss: number | null = null;
  let windows = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | null = null;
  let wake: () => void = () => undefined;
  const onAbort = () => wake();
  signal?.addEventListener("abort", onAbort);

  const launch = (lateness: number | null) => {
    const { lane, sizeClass, plan: req } = soakRequest(profile.workload, requestIndex++, plan.model);
    inFlight++;
    x.events++;
    if (lateness !== null) {
      x.lateness.record(lateness);
      x.maxLatenessMs = Math.max(x.maxLatenessMs ?? 0, lateness);
    }
    void deps.send(req).then((rec) => {
      const ok = rec.error === null && rec.status === 200;
      if (rec.cacheHit === true) x.cacheHits++;
      const error = rec.error ?? (ok ? undefined : `http-${rec.status ?? "none"}`);
      if (lane === "fresh") {
        agg.recordRequest({ ok, e2eMs: ok ? rec.elapsedMs : undefined, ttftMs: ok && rec.ttftMs !== null ? rec.ttftMs : undefined, error });
        if (ok) {
          x.live.record(rec.elapsedMs);
          x.classes[sizeClass]?.record(rec.elapsedMs);
        }
      } else {
        agg.recordRequest({ ok, error });
        if (ok) x.repeat.record(rec.elapsedMs);
      }
    }).finally(() => {
      if (inFlight === profile.concurrency) freedAt = runNow();
      inFlight--;
      wake();
    });
  };

  const launchCanary = () => {
    if (canaryInFlight) {
      x.skippedCanaries++;
      return;
    }
    canaryInFlight = true;
    inFlight++;
    x.events++;
    void deps.send(canaryRequest(profile.canary, windowIndex, plan.model)).then((rec) => {
      const text = rec.error === null && rec.status === 200 ? rec.answer?.text ?? null : null;
      if (text === null) {
        agg.recordCanary({ ok: false, name: `error:${rec.error ?? `http-${rec.status ?? "none"}`}` });
        return;
      }
      x.canaryMs.push(rec.elapsedMs);
      if (reference === null) {
        reference = text;
        x.reference = text;
      }
      if (text === reference) agg.recordCanary({ ok: true, latencyMs: rec.elapsedMs });
      else {
        agg.recordCanary({ ok: false, name: "changed", latencyMs: rec.elapsedMs });
        x.changed ??= text;
      }
    }).finally(() => {
      canaryInFlight = false;
      if (inFlight === profile.concurrency) freedAt = runNow();
      inFlight--;
      wake();
    });
  };

  const sampleMemory = () => {
    const delay = deps.loopDelayMs?.() ?? null;
    if (delay !== null) agg.recordEventLoopDelay(delay);
    if (reading) return;
    const t = runNow();
    reading = deps.readMemory().then((m) => {
      if (!m) return;
      lastRss = m.rss;
      x.events++;
      x.memory.push([t, m.rss, m.heapUsed, m.external]);
      if (m.heapUsed !== null && m.external !== null) agg.recordMemory({ rss: m.rss, heapUsed: m.heapUsed, external: m.external });
    }, () => undefined).finally(() => {
      reading = null;
    });
  };

  const closeWindow = () => {
    const rec = agg.flush();
    const e = x;
    x = freshExtras(classCount);
    const payload: WindowPayload = {
      type: "window",
      lifetime: plan.lifetime,
      at: (deps.wallClock?.() ?? new Date()).toISOString(),
      partial: rec.endMs - rec.startMs < profile.windowMs * 0.999,
      record: { ...rec, index: windowIndex },
      classes: e.classes.map((h) => (h.count > 0 ? h.toJSON() : null)),
      repeat: { count: e.repeat.count, histogram: e.repeat.count > 0 ? e.repeat.toJSON() : null, cacheHits: e.cacheHits },
      memory: [...e.memory.items],
      canary: { ...(e.reference !== undefined ? { reference: e.reference } : {}), ...(e.changed !== undefined ? { changed: e.changed } : {}), latenciesMs: e.canaryMs },
      sends: { skippedCanaries: e.skippedCanaries, maxLatenessMs: e.maxLatenessMs, latenessP99Ms: e.lateness.percentile(99) },
      nextRequestIndex: requestIndex,
    };
    windowIndex++;
    windows++;
    const cpu = deps.cpuSnapshot ? deps.cpuSnapshot() : null;
    chain = chain.then(async () => {
      if (failure) return;
      if (cpu) {
        const now = await cpu;
        payload.host = { foreignCpuPct: foreignCpuPct(lastCpu, now) };
        lastCpu = now;
      } else payload.host = { foreignCpuPct: null };
      await deps.onWindow(payload);
    }).catch((err: unknown) => {
      failure ??= { err };
      wake();
    });
  };

  const wait = (ms: number) => new Promise<void>((resolve) => {
    wake = resolve;
    void clock.sleep(Math.max(0, ms)).then(resolve);
  });

  let nextSendAt = runNow();
  let nextMemAt = runNow();
  let nextCanaryAt = runNow() + canaryOffset;
  let nextTickAt = runNow() + tickMs;
  let canaryWindow = windowIndex;
  try {
    while (failure === null && !signal?.aborted) {
      const t = runNow();
      if (t >= plan.endRunMs) break;
      if (agg.dueInMs() <= 0) {
        closeWindow();
        continue;
      }
      if (t >= nextMemAt) {
        sampleMemory();
        nextMemAt = Math.max(nextMemAt + profile.memoryIntervalMs, t);
      }
      if (canaryWindow !== windowIndex) {
        canaryWindow = windowIndex;
        nextCanaryAt = t + canaryOffset;
      }
      // The canary takes a slot like any request (it waits for one): with concurrency at or below
      // the server's slots nothing ever queues inside the server behind another request.
      if (t >= nextCanaryAt && (canaryInFlight || inFlight < profile.concurrency)) {
        launchCanary();
        nextCanaryAt = Number.POSITIVE_INFINITY;
      }
      if (t >= nextTickAt) {
        deps.onTick?.({ runMs: t, endRunMs: plan.endRunMs, windowMs: profile.windowMs, windowsDone: windowIndex, inFlight, p50: x.live.percentile(50), p95: x.live.percentile(95), rssBytes: lastRss });
        nextTickAt = t + tickMs;
      }
      if (inFlight < profile.concurrency && t >= nextSendAt) {
        const late = t - nextSendAt;
        // The harness's own lateness: a send held back because every slot was busy counts from
        // when a slot freed up (waiting for the server is the server's doing, not the harness's).
        launch(interval > 0 ? Math.max(0, t - Math.max(nextSendAt, freedAt)) : null);
        nextSendAt = interval === 0 ? t : late > interval ? t + interval : nextSendAt + interval;
        continue;
      }
      const free = inFlight < profile.concurrency;
      const next = Math.min(t + agg.dueInMs(), plan.endRunMs, nextMemAt, free || canaryInFlight ? nextCanaryAt : Number.POSITIVE_INFINITY, nextTickAt, free ? nextSendAt : Number.POSITIVE_INFINITY);
      await wait(next - t);
    }
    const interrupted = signal?.aborted === true;
    const drainUntil = clock.now() + (interrupted ? deps.abortDrainMs ?? 5000 : profile.requestTimeoutMs + 1000);
    while ((inFlight > 0 || canaryInFlight) && failure === null && clock.now() < drainUntil) await wait(Math.min(100, drainUntil - clock.now()));
    await reading;
    if (failure === null && (!interrupted || x.events > 0)) closeWindow();
    await chain;
    if (failure) throw (failure as { err: unknown }).err;
    return { interrupted, windows, endRunMs: runNow(), nextRequestIndex: requestIndex, canaryReference: reference };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
