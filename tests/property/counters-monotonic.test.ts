import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withChaos } from "../../src/engine/chaos-engine.js";
import type { Engine } from "../../src/engine/types.js";
import { parseExposition, sampleValue, sumSamples, type Sample } from "../../src/observability/exposition.js";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";

let engine: Engine;
let s: TestServer;
const TIMEOUT_MS = 3000;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 1 });
  // The project's chaos engine over the real one: a `[chaos:slow:MS]` prompt crawls past the request timeout.
  s = await startTestServer({ slots: 1, queueMax: 1, timeoutMs: TIMEOUT_MS, retry: { maxRetries: 0 } }, { listen: true, engine: withChaos(engine, { mode: "tagged" }), server: { ownsEngine: false } });
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

const KINDS = ["ok", "okStream", "invalid", "abort", "queueFull", "timeout", "cached"] as const;
type Step = { kind: (typeof KINDS)[number]; maxTokens: number; variant: number };
const step = fc.record({
  kind: fc.constantFrom(...KINDS),
  maxTokens: fc.integer({ min: 1, max: 4 }),
  variant: fc.integer({ min: 0, max: 2 }),
});

/** The counters of GET /v1/metrics (JSON) that must never decrease either. */
interface JsonCounters {
  total_requests: number;
  failed: number;
  cache_hits: number;
  cache_misses: number;
}

async function jsonCounters(): Promise<JsonCounters> {
  const j = (await (await fetch(`${s.url}/v1/metrics`)).json()) as any;
  return { total_requests: j.throughput.total_requests, failed: j.requests.failed, cache_hits: j.cache.hits, cache_misses: j.cache.misses };
}

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return { text, samples: parseExposition(text) };
}

/** Every series of every counter and histogram family, keyed by name and labels. */
function cumulativeSeries(text: string, samples: Sample[]): Map<string, number> {
  const cumulative = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (counter|histogram)$/gm)) cumulative.add(m[1]!);
  const out = new Map<string, number>();
  for (const x of samples) {
    const family = x.name.replace(/_(bucket|sum|count)$/, "");
    if (!cumulative.has(x.name) && !cumulative.has(family)) continue;
    const labels = Object.entries(x.labels).sort().map(([k, v]) => `${k}=${v}`).join(",");
    out.set(`${x.name}{${labels}}`, x.value);
  }
  return out;
}

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 15));
  }
}

const idle = async () => {
  const { samples } = await scrape();
  return sampleValue(samples, "gauntlet_slots_busy") === 0 && sampleValue(samples, "gauntlet_requests_waiting") === 0 && sampleValue(samples, "gauntlet_requests_running") === 0;
};

// Unseeded sampling is never cached: every request really reaches the slots (a cached "hold" would not hold one).
let serial = 0;
const body = (st: Step, prompt: string, maxTokens = st.maxTokens) => ({ messages: userMessage(`${prompt} ${serial++}`), max_tokens: maxTokens, temperature: 0.8 });
const post = (payload: object, signal?: AbortSignal) =>
  fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal });

/** Holds the only slot with a long stream until the returned function is called. */
async function holdSlot(st: Step): Promise<() => Promise<void>> {
  const ac = new AbortController();
  let first!: () => void;
  const started = new Promise<void>((r) => (first = r));
  const p = streamChat(s.url, body(st, "hold", 1800), { signal: ac.signal, onChunk: () => first() }).catch(() => null);
  await started;
  return async () => {
    ac.abort();
    await p;
  };
}

/** Runs one step; returns how many chat requests it sent. */
async function run(st: Step): Promise<number> {
  switch (st.kind) {
    case "ok":
      expect((await post(body(st, "ok"))).status).toBe(200);
      return 1;
    case "okStream":
      expect((await streamChat(s.url, body(st, "stream"))).done).toBe(true);
      return 1;
    case "invalid":
      expect((await post({ messages: [], max_tokens: st.maxTokens })).status).toBe(400);
      return 1;
    case "abort": {
      const release = await holdSlot(st);
      await release();
      return 1;
    }
    case "queueFull": {
      const release = await holdSlot(st);
      const ac = new AbortController();
      const queued = post(body(st, "queued"), ac.signal).catch(() => null);
      await waitFor(async () => sampleValue((await scrape()).samples, "gauntlet_requests_waiting") === 1);
      expect((await post(body(st, "refused"))).status).toBe(503);
      ac.abort();
      await queued;
      await release();
      return 3;
    }
    case "timeout": {
      // 40 chunks 150 ms apart: well past the limit, after a first token.
      const res = await post({ messages: userMessage(`[chaos:slow:150] timeout ${serial++}`), max_tokens: 40, temperature: 0.8 });
      expect(res.status).toBe(504);
      return 1;
    }
    case "cached": {
      // Deterministic and repeated: the response cache misses, then hits (or hits twice for a variant seen before).
      const payload = { messages: userMessage(`cached variant ${st.variant}`), max_tokens: st.maxTokens, temperature: 0 };
      expect((await post(payload)).status).toBe(200);
      expect((await post(payload)).status).toBe(200);
      return 2;
    }
  }
}

describe("Prometheus counters", () => {
  test("never decrease while the server lives, over random sequences of ok, invalid, aborted, refused, timed-out and cached requests", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (steps) => {
        let prev = await scrape();
        let prevSeries = cumulativeSeries(prev.text, prev.samples);
        let prevJson = await jsonCounters();
        for (const st of steps) {
          const sent = await run(st);
          const before = sumSamples(prev.samples, "gauntlet_requests_total");
          // Every request of the step is counted once it has ended.
          await waitFor(async () => sumSamples((await scrape()).samples, "gauntlet_requests_total") === before + sent);
          await waitFor(idle);
          const now = await scrape();
          const series = cumulativeSeries(now.text, now.samples);
          for (const [key, value] of prevSeries) {
            expect(series.has(key), `${key} disappeared`).toBe(true);
            expect(series.get(key)!, `${key} went down after ${st.kind}`).toBeGreaterThanOrEqual(value);
          }
          // The JSON counters of /v1/metrics never decrease either, and agree with the Prometheus ones.
          const json = await jsonCounters();
          for (const key of Object.keys(json) as Array<keyof JsonCounters>) {
            expect(json[key], `/v1/metrics ${key} went down after ${st.kind}`).toBeGreaterThanOrEqual(prevJson[key]);
          }
          expect(json.total_requests).toBe(sumSamples(now.samples, "gauntlet_requests_total"));
          expect(json.failed).toBe(sumSamples(now.samples, "gauntlet_requests_total") - sumSamples(now.samples, "gauntlet_requests_total", { outcome: "success" }));
          expect(json.cache_hits).toBe(sampleValue(now.samples, "gauntlet_cache_hits_total"));
          expect(json.cache_misses).toBe(sampleValue(now.samples, "gauntlet_cache_misses_total"));
          if (st.kind === "timeout") expect(json.failed).toBeGreaterThan(prevJson.failed);
          if (st.kind === "cached") expect(json.cache_hits).toBeGreaterThan(prevJson.cache_hits);
          prev = now;
          prevSeries = series;
          prevJson = json;
        }
      }),
      // One explicit example runs every kind of step at least once, whatever the random runs draw.
      { numRuns: 6, examples: [[KINDS.map((kind, i) => ({ kind, maxTokens: 1 + (i % 4), variant: i % 3 }))]] },
    );
  }, 240_000);
});
