/**
 * A seeded, simulated server and a fake clock for testing soak runs without a real server (and for
 * running thousands of windows in milliseconds). Memory follows a warm-up rise, an optional steady
 * leak per request and noise; latency is lognormal-ish around `latencyMs`, cache hits are fast.
 */
import type { Clock } from "../load/clock.js";
import type { RequestRecord } from "../load/types.js";
import type { PlannedRequest } from "../scenarios/plan.js";
import { gaussian, mulberry32 } from "../soak/synthetic.js";
import type { ServerMemoryReading } from "./run-loop.js";

export interface FakeClock extends Clock {
  advance(ms: number): void;
}

/** sleep(ms) moves time forward by ms at once. */
export function createFakeClock(start = 0): FakeClock {
  let t = start;
  return {
    now: () => t,
    sleep: (ms) => {
      t += Math.max(0, ms);
      return Promise.resolve();
    },
    advance: (ms) => void (t += ms),
  };
}

/**
 * A discrete-event fake clock: sleep(ms) resolves when the clock reaches now + ms, and time jumps
 * to the earliest pending sleep once everything else has settled (checked on a macrotask, after the
 * awaiting code's microtasks). Unlike createFakeClock, concurrent waits overlap as they would in
 * real time: a request taking 300 ms (see SimulatedServerOptions.clock) holds its slot 300 ms.
 */
export function createSteppingClock(start = 0): FakeClock {
  let t = start;
  const timers: { at: number; resolve: () => void }[] = [];
  let driving = false;
  const drive = () => {
    driving = false;
    if (timers.length === 0) return;
    timers.sort((a, b) => a.at - b.at);
    const next = timers.shift()!;
    t = Math.max(t, next.at);
    next.resolve();
    schedule();
  };
  const schedule = () => {
    if (driving || timers.length === 0) return;
    driving = true;
    setImmediate(drive);
  };
  return {
    now: () => t,
    sleep: (ms) => new Promise<void>((resolve) => {
      timers.push({ at: t + Math.max(0, ms), resolve });
      schedule();
    }),
    advance: (ms) => void (t += ms),
  };
}

export interface SimulatedServerOptions {
  seed: number;
  /** When given, each answer arrives elapsedMs later on this clock (use createSteppingClock); else at once. */
  clock?: Clock;
  baseRssBytes?: number;
  /** Bytes kept per chat request (a leak). */
  leakBytesPerRequest?: number;
  /** The leak is Node Buffers: it shows in external as well as in RSS (which holds it), as the server's leak switch does. */
  leakInExternal?: boolean;
  noiseBytes?: number;
  /** RSS rises by this much over the first requests (warm-up), as 1 - exp(-n / warmupRequests). */
  warmupBytes?: number;
  warmupRequests?: number;
  /** null: the server reports no heap/external (RSS only). */
  externalBytes?: number | null;
  latencyMs?: number;
  /** Latency grows with the prompt: latencyMs x (1 + prompt characters / 100). */
  promptCost?: boolean;
  /** This share of generations is 4x slower (a detached tail). */
  slowShare?: number;
  /** Every n-th request fails with http-500 (0: never). */
  failEvery?: number;
  /** The canary's answer for the n-th canary (default: always the same). */
  canaryAnswer?: (n: number) => string;
}

export interface SimulatedServer {
  send(plan: PlannedRequest): Promise<RequestRecord>;
  readMemory(): Promise<ServerMemoryReading | null>;
  requests(): number;
}

export function createSimulatedServer(o: SimulatedServerOptions): SimulatedServer {
  const rand = mulberry32(o.seed);
  const seen = new Set<string>();
  let requests = 0;
  let canaries = 0;
  return {
    requests: () => requests,
    async send(plan) {
      requests++;
      const body = plan.body as PlannedRequest["body"] & { stop?: string[] };
      const isCanary = plan.key === "canary";
      const hit = !isCanary && body.temperature === 0 && seen.has(plan.key);
      if (body.temperature === 0 && !isCanary) seen.add(plan.key);
      const base = o.latencyMs ?? 100;
      const chars = body.messages.reduce((a, m) => a + m.content.length, 0);
      const cost = (o.promptCost ? 1 + chars / 100 : 1) * (rand() < (o.slowShare ?? 0) ? 4 : 1);
      const elapsedMs = hit ? 2 + rand() : base * cost * Math.exp(0.15 * gaussian(rand));
      const failed = (o.failEvery ?? 0) > 0 && requests % o.failEvery! === 0;
      const text = isCanary ? (o.canaryAnswer ?? (() => "2, 3, 5, 7, 11"))(canaries++) : `answer ${plan.key}`;
      const rec: RequestRecord = {
        index: plan.index, key: plan.key, sentAt: 0, scheduledAt: null, elapsedMs, ttftMs: body.stream && !failed ? elapsedMs / 4 : null, itlMs: [],
        status: failed ? 500 : 200, error: failed ? "http-500" : null,
        answer: failed ? null : { text, finishReason: "stop", completionTokens: 8, promptTokens: 20 }, server: null,
        cacheHit: hit,
      };
      if (o.clock) await o.clock.sleep(elapsedMs);
      return rec;
    },
    async readMemory() {
      const warm = (o.warmupBytes ?? 0) * (1 - Math.exp(-requests / (o.warmupRequests ?? 50)));
      const rss = (o.baseRssBytes ?? 200 * 1024 * 1024) + warm + (o.leakBytesPerRequest ?? 0) * requests + (o.noiseBytes ?? 0) * gaussian(rand);
      const leaked = o.leakInExternal ? (o.leakBytesPerRequest ?? 0) * requests : 0;
      const external = o.externalBytes === null ? null : (o.externalBytes ?? 4 * 1024 * 1024) + leaked;
      return { rss: Math.max(1, rss), heapUsed: external === null ? null : 30 * 1024 * 1024, external };
    },
  };
}
