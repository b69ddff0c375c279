import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { cacheKey, isCacheable } from "../../src/cache/cache-key.js";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { createResponseCache, type ResponseCacheEvents } from "../../src/cache/response-cache.js";
import { CircuitBreaker } from "../../src/resilience/circuit-breaker.js";

const FP = "f".repeat(64);
const params = { maxTokens: 8, temperature: 0, topP: 1, seed: undefined, stop: [] as string[] };
const msgs = [{ role: "user" as const, content: "hello" }];
const value = { text: "answer", finishReason: "length" as const, promptTokens: 5, completionTokens: 8 };

function counting(): ResponseCacheEvents & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const inc = (k: string) => () => void (counts[k] = (counts[k] ?? 0) + 1);
  return { counts, hit: inc("hit"), miss: inc("miss"), corruption: inc("corruption"), ioError: inc("ioError"), stored: inc("stored") };
}

const tmp = () => mkdtempSync(join(tmpdir(), "gauntlet-rc-"));

describe("cacheKey", () => {
  test("is 64 hex characters and changes with the fingerprint, the messages and every sampling parameter", () => {
    const base = cacheKey(FP, msgs, params);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(FP, msgs, params)).toBe(base);
    const variants = [
      cacheKey("e".repeat(64), msgs, params),
      cacheKey(FP, [{ role: "user", content: "hellO" }], params),
      cacheKey(FP, [{ role: "system", content: "hello" }], params),
      cacheKey(FP, msgs, { ...params, maxTokens: 9 }),
      cacheKey(FP, msgs, { ...params, temperature: 0.5, seed: 1 }),
      cacheKey(FP, msgs, { ...params, topP: 0.9 }),
      cacheKey(FP, msgs, { ...params, seed: 3 }),
      cacheKey(FP, msgs, { ...params, stop: ["x"] }),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  test("is not fooled by content that looks like a message boundary", () => {
    const a = cacheKey(FP, [{ role: "user", content: 'a","role":"user' }], params);
    const b = cacheKey(FP, [{ role: "user", content: "a" }, { role: "user", content: "" }], params);
    expect(a).not.toBe(b);
  });
});

describe("isCacheable", () => {
  test("only deterministic requests are cached: temperature 0 or a fixed seed", () => {
    expect(isCacheable(params)).toBe(true);
    expect(isCacheable({ ...params, temperature: 0.7 })).toBe(false);
    expect(isCacheable({ ...params, temperature: 0.7, seed: 4 })).toBe(true);
  });
});

describe("createResponseCache", () => {
  test("a stored answer is found again, in memory and after a restart from disk", async () => {
    const dir = tmp();
    const c1 = createResponseCache({ dir, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c1.open();
    const key = cacheKey(FP, msgs, params);
    expect(await c1.lookup(key)).toBeNull();
    c1.store(key, value);
    expect(await c1.lookup(key)).toEqual(value);
    await c1.flush();
    const ev = counting();
    const c2 = createResponseCache({ dir, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20, events: ev });
    await c2.open();
    await c2.ready();
    expect(await c2.lookup(key)).toEqual(value);
    expect(ev.counts.hit).toBe(1);
    expect(c2.stats().entries).toBe(1);
  });

  test("a corrupted record is quarantined, counted and reported as a miss; valid records survive", async () => {
    const dir = tmp();
    const c1 = createResponseCache({ dir, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c1.open();
    const good = cacheKey(FP, msgs, params);
    const bad = cacheKey(FP, msgs, { ...params, maxTokens: 3 });
    c1.store(good, value);
    c1.store(bad, value);
    await c1.flush();
    writeFileSync(join(dir, `${bad}.rec`), "GAUNTLET-CACHE\n{garbage");
    const ev = counting();
    const c2 = createResponseCache({ dir, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20, events: ev });
    await c2.open();
    await c2.ready();
    expect(await c2.lookup(bad)).toBeNull();
    expect(await c2.lookup(good)).toEqual(value);
    expect(ev.counts.corruption).toBe(1);
    expect(readdirSync(join(dir, "quarantine")).length).toBe(1);
  });

  test("records of another model are never served", async () => {
    const dir = tmp();
    const c1 = createResponseCache({ dir, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c1.open();
    const key = cacheKey(FP, msgs, params);
    c1.store(key, value);
    await c1.flush();
    const other = createResponseCache({ dir, fingerprint: "a".repeat(64), maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await other.open();
    await other.ready();
    expect(await other.lookup(key)).toBeNull();
  });

  test("concurrent identical requests share one generation", async () => {
    const c = createResponseCache({ dir: tmp(), fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c.open();
    let runs = 0;
    const gen = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      return value;
    };
    const results = await Promise.all(Array.from({ length: 30 }, () => c.singleFlight("k".repeat(64), gen)));
    expect(runs).toBe(1);
    expect(results.filter((r) => r.shared)).toHaveLength(29);
    for (const r of results) expect(r.value).toEqual(value);
  });

  test("a caller whose lookup missed while the leader finished gets the leader's answer, not a second generation", async () => {
    // Request B's lookup read the disk before request A's answer was stored; A finished meanwhile (no generation
    // in flight any more). B must not generate again: 30 concurrent identical requests gave 7 generations once
    // generation got fast enough to end within a disk read.
    const c = createResponseCache({ dir: tmp(), fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c.open();
    const key = "b".repeat(64);
    await expect(c.singleFlight(key, async () => (c.store(key, value), value))).resolves.toMatchObject({ shared: false });
    let again = 0;
    const b = await c.singleFlight(key, async () => (again++, value));
    expect(again).toBe(0);
    expect(b).toEqual({ value, shared: true });
  });

  test("a failed leader lets the next caller generate again", async () => {
    const c = createResponseCache({ dir: tmp(), fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c.open();
    await expect(c.singleFlight("k", async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    await expect(c.singleFlight("k", async () => value)).resolves.toMatchObject({ value, shared: false });
  });

  test("after 5 consecutive disk errors the breaker opens and the cache is bypassed, then recovers", async () => {
    let t = 0;
    const fs = new FaultInjectingFs(nodeCacheFs);
    const breaker = new CircuitBreaker({ failureThreshold: 5, successThreshold: 2, cooldownMs: 1000, now: () => t });
    const ev = counting();
    const c = createResponseCache({ dir: tmp(), fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20, fs, breaker, events: ev });
    await c.open();
    fs.inject({ op: "open", code: "EIO", times: 1000 });
    for (let i = 0; i < 5; i++) {
      c.store(cacheKey(FP, msgs, { ...params, maxTokens: i + 1 }), value);
      await c.flush();
    }
    expect(breaker.state).toBe("open");
    expect(c.degraded()).toBe(true);
    expect(ev.counts.ioError).toBe(5);
    // Open: no lookups, no writes, no errors.
    expect(await c.lookup(cacheKey(FP, msgs, params))).toBeNull();
    fs.clearFaults();
    t += 1001;
    const key = cacheKey(FP, msgs, { ...params, maxTokens: 50 });
    c.store(key, value);
    await c.flush();
    c.store(cacheKey(FP, msgs, { ...params, maxTokens: 51 }), value);
    await c.flush();
    expect(breaker.state).toBe("closed");
    expect(c.degraded()).toBe(false);
    expect(await c.lookup(key)).toEqual(value);
  });

  test("starts and serves misses when the directory is unusable", async () => {
    const dir = tmp();
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    const c = createResponseCache({ dir: file, fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c.open();
    await c.ready();
    const key = cacheKey(FP, msgs, params);
    c.store(key, value);
    // Memory still works even when the disk does not.
    expect(await c.lookup(key)).toEqual(value);
    expect(c.stats().diskAvailable).toBe(false);
  });

  test("clearMemory drops the in-memory entries but keeps the disk ones", async () => {
    const c = createResponseCache({ dir: tmp(), fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c.open();
    const key = cacheKey(FP, msgs, params);
    c.store(key, value);
    await c.flush();
    c.clearMemory();
    expect(c.stats().memoryEntries).toBe(0);
    expect(await c.lookup(key)).toEqual(value);
  });

  test("clear removes everything", async () => {
    const c = createResponseCache({ dir: tmp(), fingerprint: FP, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 });
    await c.open();
    const key = cacheKey(FP, msgs, params);
    c.store(key, value);
    await c.clear();
    expect(await c.lookup(key)).toBeNull();
    expect(c.stats().entries).toBe(0);
  });
});
