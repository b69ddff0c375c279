import { mkdirSync, readdirSync, rmSync, writeFileSync, truncateSync, readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/engine/types.js";
import type { BuildServerOptions } from "../../src/server/app.js";
import { bindAll } from "../../src/engine/retrying-engine.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";
import { nodeCacheFs, type CacheFileHandle, type CacheFs } from "../../src/cache/cache-fs.js";

let engine: Engine;
let generations = 0;
/** The real engine, counting generations. */
let counting: Engine;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2 });
  counting = { ...bindAll(engine), generate: (r, c) => (generations++, engine.generate(r, c)) };
});
afterAll(async () => {
  await engine?.close();
});

async function server(overrides = {}, listen = false, extra: Partial<BuildServerOptions> = {}): Promise<TestServer> {
  return startTestServer({ slots: 2, ...overrides }, { engine: counting, listen, server: { ownsEngine: false, ...extra } });
}
const chat = (s: TestServer, payload: object) => s.app.inject({ method: "POST", url: "/v1/chat/completions", payload });
const prom = async (s: TestServer) => (await s.app.inject({ method: "GET", url: "/metrics" })).body;
/** The sum of a metric's samples over its labels. */
const counter = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
/** Polls until `cond` holds (liveness bound 10 s; fails the test otherwise). */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached within 10 s");
}

describe("response cache", () => {
  test("a repeated deterministic request is a hit identical to the generated answer", async () => {
    const s = await server();
    const req = { messages: userMessage("cache me"), max_tokens: 12, temperature: 0 };
    const before = generations;
    const first = await chat(s, req);
    const second = await chat(s, req);
    expect(first.headers["x-cache-hit"]).toBe("false");
    expect(second.headers["x-cache-hit"]).toBe("true");
    expect(generations - before).toBe(1);
    const a = first.json();
    const b = second.json();
    expect(b.choices).toEqual(a.choices);
    expect({ p: b.usage.prompt_tokens, c: b.usage.completion_tokens, t: b.usage.total_tokens }).toEqual({ p: a.usage.prompt_tokens, c: a.usage.completion_tokens, t: a.usage.total_tokens });
    expect((await s.app.inject({ method: "GET", url: "/health" })).json().metrics.cacheHitRate).toBeGreaterThan(0);
    await s.app.close();
  });

  test("a fixed seed makes a sampled request cacheable; an unseeded one never hits", async () => {
    const s = await server();
    const seeded = { messages: userMessage("seeded"), max_tokens: 8, temperature: 0.9, seed: 5 };
    await chat(s, seeded);
    expect((await chat(s, seeded)).headers["x-cache-hit"]).toBe("true");
    const unseeded = { messages: userMessage("unseeded"), max_tokens: 8, temperature: 0.9 };
    await chat(s, unseeded);
    expect((await chat(s, unseeded)).headers["x-cache-hit"]).toBe("false");
    await s.app.close();
  });

  test("a streamed hit reassembles to the cached text and says so in X-Cache-Hit", async () => {
    const s = await server({}, true);
    const req = { messages: userMessage("stream from cache"), max_tokens: 10, temperature: 0 };
    const plain = (await chat(s, req)).json();
    const streamed = await streamChat(s.url, req);
    expect(streamed.headers.get("x-cache-hit")).toBe("true");
    expect(streamed.text).toBe(plain.choices[0].message.content);
    expect(streamed.done).toBe(true);
    await s.app.close();
  });

  test("30 concurrent identical requests give one generation and 30 identical answers", async () => {
    const s = await server();
    const req = { messages: userMessage("thirty at once"), max_tokens: 16, temperature: 0 };
    const before = generations;
    const all = await Promise.all(Array.from({ length: 30 }, () => chat(s, req)));
    expect(generations - before).toBe(1);
    const texts = new Set(all.map((r) => r.json().choices[0].message.content));
    expect(all.every((r) => r.statusCode === 200)).toBe(true);
    expect(texts.size).toBe(1);
    await s.app.close();
  });

  test("answers survive a restart; corrupted records are quarantined and regenerated with the same answer", async () => {
    const a = await server();
    const reqs = [0, 1, 2, 3].map((i) => ({ messages: userMessage(`persist ${i}`), max_tokens: 10, temperature: 0 }));
    const answers = [];
    for (const r of reqs) answers.push((await chat(a, r)).json().choices[0].message.content);
    const dir = a.config.cacheDir;
    await a.app.close();

    const recDir = join(dir, "responses", readdirSync(join(dir, "responses"))[0]!);
    const files = readdirSync(recDir).filter((f) => f.endsWith(".rec")).sort();
    expect(files).toHaveLength(4);
    // Corrupt three of four records in different ways.
    truncateSync(join(recDir, files[0]!), 20);
    const flipped = readFileSync(join(recDir, files[1]!));
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0xff;
    writeFileSync(join(recDir, files[1]!), flipped);
    writeFileSync(join(recDir, files[2]!), Buffer.from([0, 0, 0xff, 0xfe, 0]));

    const b = await server({ cacheDir: dir });
    const before = generations;
    const hits: string[] = [];
    for (const [i, r] of reqs.entries()) {
      const res = await chat(b, r);
      expect(res.statusCode).toBe(200);
      expect(res.json().choices[0].message.content).toBe(answers[i]);
      hits.push(String(res.headers["x-cache-hit"]));
    }
    expect(hits.filter((h) => h === "true")).toHaveLength(1);
    expect(generations - before).toBe(3);
    const state = (await b.app.inject({ method: "GET", url: "/cache" })).json();
    expect(state.responses.quarantineFiles).toBe(3);
    // A recovery is a corrupt record replaced by a fresh valid one: the three answers are written back.
    await waitFor(async () => counter(await prom(b), "gauntlet_cache_recoveries_total") === 3);
    const text = await prom(b);
    expect(counter(text, "gauntlet_cache_corruptions_total")).toBe(3);
    expect(counter(text, "gauntlet_cache_recoveries_total")).toBe(3);
    expect(counter(text, "gauntlet_cache_hits_total")).toBe(1);
    expect(counter(text, "gauntlet_cache_misses_total")).toBe(3);
    await b.app.close();
  });

  test("corruption found at start-up is counted at once; it is a recovery only once the answer is stored again", async () => {
    const a = await server();
    const req = { messages: userMessage("recover me"), max_tokens: 6, temperature: 0 };
    await chat(a, req);
    const dir = a.config.cacheDir;
    await a.app.close();
    const recDir = join(dir, "responses", readdirSync(join(dir, "responses"))[0]!);
    const file = readdirSync(recDir).find((f) => f.endsWith(".rec"))!;
    truncateSync(join(recDir, file), 30);
    const b = await server({ cacheDir: dir });
    await waitFor(async () => (await b.app.inject({ method: "GET", url: "/cache" })).json().responses.scanComplete === true);
    expect(counter(await prom(b), "gauntlet_cache_corruptions_total")).toBe(1);
    expect(counter(await prom(b), "gauntlet_cache_recoveries_total")).toBe(0);
    expect((await chat(b, req)).headers["x-cache-hit"]).toBe("false");
    await waitFor(async () => counter(await prom(b), "gauntlet_cache_recoveries_total") === 1);
    await b.app.close();
  });
});

describe("system-prompt cache", () => {
  const SYSTEM = "You are the gauntlet test assistant. Answer briefly and never mention the weather.";

  test("POST /cache/warm keeps the system prompt evaluated; later requests reuse it", async () => {
    const s = await server({ slots: 1 });
    const warm = await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    expect(warm.statusCode).toBe(200);
    const w = warm.json();
    expect(w.tokens).toBeGreaterThan(10);
    expect(w.systemPromptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof w.lastUpdated).toBe("number");
    const state = (await s.app.inject({ method: "GET", url: "/cache" })).json();
    expect(state).toMatchObject({ tokens: w.tokens, systemPromptHash: w.systemPromptHash, lastUpdated: w.lastUpdated });
    expect((await s.app.inject({ method: "GET", url: "/health" })).json().cache).toEqual({ tokens: w.tokens, systemPromptHash: w.systemPromptHash, lastUpdated: w.lastUpdated });

    const use = await chat(s, { messages: [{ role: "system", content: SYSTEM }, { role: "user", content: "hi" }], max_tokens: 4, temperature: 0.5 });
    expect(use.json().usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(w.tokens);
    await s.app.close();
  });

  test("a request with another system prompt is a miss and gets the same answer as on a cold engine", async () => {
    const s = await server({ slots: 1 });
    const other = { messages: [{ role: "system", content: "A different system prompt entirely." }, { role: "user", content: "hi" }], max_tokens: 8, temperature: 0, seed: 1 };
    const cold = await startTinyEngine({ slots: 1 });
    const expected = (await cold.generate({ messages: other.messages as never, params: { maxTokens: 8, temperature: 0, topP: 1, seed: 1, stop: [] }, slot: 0 })).text;
    await cold.close();
    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    const res = (await chat(s, other)).json();
    expect(res.usage.prompt_tokens_details.cached_tokens).toBeLessThan(10);
    expect(res.choices[0].message.content).toBe(expected);
    await s.app.close();
  });

  test.each([[{}], [{ prompt: "" }], [{ prompt: "   " }], [{ prompt: 42 }]])("POST /cache/warm with %j is a 400", async (payload) => {
    const s = await server();
    const res = await s.app.inject({ method: "POST", url: "/cache/warm", payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.param).toBe("prompt");
    await s.app.close();
  });

  test("DELETE /cache clears both caches", async () => {
    const s = await server({ slots: 1 });
    await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    const req = { messages: userMessage("clear me"), max_tokens: 6, temperature: 0 };
    await chat(s, req);
    expect((await chat(s, req)).headers["x-cache-hit"]).toBe("true");
    const del = await s.app.inject({ method: "DELETE", url: "/cache" });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ cleared: true, tokens: 0, systemPromptHash: null });
    expect((await chat(s, req)).headers["x-cache-hit"]).toBe("false");
    const use = await chat(s, { messages: [{ role: "system", content: SYSTEM }, { role: "user", content: "x" }], max_tokens: 2, temperature: 0.5 });
    expect(use.json().usage.prompt_tokens_details.cached_tokens).toBeLessThan(10);
    await s.app.close();
  });
});

/** The real file system with a switch that makes record reads or fsyncs hang until released. */
function stallable(): CacheFs & { reads: boolean; writes: boolean; release(): void } {
  let waiters: Array<() => void> = [];
  const gate = async (on: boolean) => {
    if (on) await new Promise<void>((r) => waiters.push(r));
  };
  const fs = {
    reads: false,
    writes: false,
    release() {
      fs.reads = false;
      fs.writes = false;
      for (const w of waiters) w();
      waiters = [];
    },
    ...nodeCacheFs,
    async open(path: string, flags: string, mode?: number): Promise<CacheFileHandle> {
      const h = await nodeCacheFs.open(path, flags, mode);
      return {
        writeFile: (d) => h.writeFile(d),
        readFile: async () => {
          await gate(fs.reads && path.endsWith(".rec"));
          return h.readFile();
        },
        stat: () => h.stat(),
        sync: async () => {
          await gate(fs.writes && flags === "wx");
          return h.sync();
        },
        close: () => h.close(),
      };
    },
  };
  return fs;
}

function warnings() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, opts: { logLevel: "warn" as const, logStream: stream } };
}

/** The answer or "no answer within 10 s" (liveness bound). */
const answered = <T>(p: Promise<T>) => Promise.race([p, new Promise<string>((r) => setTimeout(() => r("no answer within 10 s"), 10_000).unref())]);

describe("response cache against a misbehaving disk (server level)", () => {
  test("a cacheable miss is answered without waiting for a stalled disk write, and the same request is then a hit", async () => {
    const fs = stallable();
    const s = await server({ cache: { ioTimeoutMs: 60_000 } }, false, { cacheFs: fs });
    await waitFor(async () => (await s.app.inject({ method: "GET", url: "/cache" })).json().responses.scanComplete === true);
    fs.writes = true;
    const req = { messages: userMessage("stalled write"), max_tokens: 4, temperature: 0 };
    const first = await answered(chat(s, req));
    expect(typeof first === "string" ? first : first.statusCode).toBe(200);
    const second = await answered(chat(s, req));
    expect(typeof second === "string" ? second : second.headers["x-cache-hit"]).toBe("true");
    fs.release();
    await s.app.close();
  });

  test("a stalled disk read gives up after --cache-io-timeout-ms and the request is generated", async () => {
    const fs = stallable();
    const logs = warnings();
    const s = await server({ cache: { maxBytes: 0, ioTimeoutMs: 100 } }, false, { cacheFs: fs, ...logs.opts });
    const req = { messages: userMessage("stalled read"), max_tokens: 4, temperature: 0 };
    await chat(s, req);
    await waitFor(async () => (await s.app.inject({ method: "GET", url: "/health" })).json().responseCache.diskEntries === 1);
    fs.reads = true;
    const res = await answered(chat(s, req));
    expect(typeof res === "string" ? res : [res.statusCode, res.headers["x-cache-hit"]]).toEqual([200, "false"]);
    expect(logs.lines.some((l) => l.code === "ETIMEDOUT" && String(l.msg).includes("disk operation failed"))).toBe(true);
    expect((await s.app.inject({ method: "GET", url: "/health" })).json().responseCache.lookupTimeouts).toBe(1);
    fs.release();
    await s.app.close();
  });

  test("one unusable record path never opens the breaker, however often its prompt is asked; it is counted and logged once", async () => {
    const logs = warnings();
    const s = await server({ cache: { maxBytes: 0 }, breaker: { failureThreshold: 3, cooldownMs: 60_000 } }, false, logs.opts);
    const req = { messages: userMessage("a directory is in the way"), max_tokens: 4, temperature: 0 };
    await chat(s, req);
    const recRoot = join(s.config.cacheDir, "responses");
    const recDir = join(recRoot, readdirSync(recRoot)[0]!);
    await waitFor(async () => readdirSync(recDir).some((f) => f.endsWith(".rec")));
    const file = readdirSync(recDir).find((f) => f.endsWith(".rec"))!;
    rmSync(join(recDir, file));
    mkdirSync(join(recDir, file));
    for (let i = 0; i < 10; i++) expect((await chat(s, req)).statusCode).toBe(200);
    const h = (await s.app.inject({ method: "GET", url: "/health" })).json();
    expect(h.status).toBe("healthy");
    expect(h.breaker).toMatchObject({ state: "closed", failures: 0 });
    expect(h.responseCache.unusableRecords).toBe(1);
    expect((await prom(s)).match(/^gauntlet_cache_corruptions_total\{reason="io"\} 1$/m)).not.toBeNull();
    const unusable = logs.lines.filter((l) => String(l.msg).includes("unusable record"));
    expect(unusable).toHaveLength(1);
    expect(JSON.stringify(logs.lines)).not.toContain(s.config.cacheDir);
    expect(JSON.stringify(logs.lines)).not.toContain("directory is in the way");
    await s.app.close();
  });
});

describe("response cache in /health and /metrics", () => {
  test("/health shows the response cache's counts, the breaker and the memory guard", async () => {
    const s = await server();
    const req = { messages: userMessage("health details"), max_tokens: 4, temperature: 0 };
    await chat(s, req);
    await chat(s, req);
    await waitFor(async () => (await s.app.inject({ method: "GET", url: "/health" })).json().responseCache.diskEntries === 1);
    const h = (await s.app.inject({ method: "GET", url: "/health" })).json();
    expect(h.responseCache).toMatchObject({ entries: 1, memoryEntries: 1, diskEntries: 1, hits: 1, misses: 1, diskAvailable: true, diskError: null });
    expect(h.responseCache.bytes).toBe(h.responseCache.memoryBytes + h.responseCache.diskBytes);
    expect(h.responseCache.diskBytes).toBeGreaterThan(0);
    expect(h.breaker).toMatchObject({ enabled: true, state: "closed", consecutiveFailures: 0 });
    expect(h.memoryGuard.state).toBe("ok");
    expect(h.memoryGuard.limitBytes).toBeGreaterThan(0);
    expect(["cgroup-v2", "cgroup-v1", "machine"]).toContain(h.memoryGuard.limitSource);
    await s.app.close();
  });

  test("gauntlet_cache_entries and _bytes are read at scrape time: they follow a memory clear and DELETE /cache", async () => {
    let usage = 100;
    const s = await server({ memory: { clearPct: 90, rejectPct: 99, checkMs: 100 } }, false, { memoryProbe: { limitBytes: 1000, readUsage: () => usage } });
    const gauge = async (name: string) => Number((await prom(s)).match(new RegExp(`^${name} (\\d+)$`, "m"))?.[1]);
    const reqs = [1, 2].map((i) => ({ messages: userMessage(`gauge ${i}`), max_tokens: 4, temperature: 0 }));
    for (const r of reqs) await chat(s, r);
    await waitFor(async () => (await gauge("gauntlet_cache_entries")) === 2 && (await s.app.inject({ method: "GET", url: "/health" })).json().responseCache.diskEntries === 2);
    const bytesBefore = await gauge("gauntlet_cache_bytes");
    // Memory clear: the disk copies stay, the memory bytes go.
    usage = 950;
    await waitFor(async () => (await s.app.inject({ method: "GET", url: "/health" })).json().responseCache.memoryEntries === 0);
    usage = 100;
    expect(await gauge("gauntlet_cache_entries")).toBe(2);
    expect(await gauge("gauntlet_cache_bytes")).toBeLessThan(bytesBefore);
    // DELETE /cache: everything goes, at once.
    expect((await s.app.inject({ method: "DELETE", url: "/cache" })).statusCode).toBe(200);
    expect(await gauge("gauntlet_cache_entries")).toBe(0);
    expect(await gauge("gauntlet_cache_bytes")).toBe(0);
    await s.app.close();
  });

  test("gauntlet_cache_entries follows a record quarantined on read", async () => {
    const fs = stallable();
    const s = await server({ cache: { maxBytes: 0 } }, false, { cacheFs: fs });
    const gauge = async (name: string) => Number((await prom(s)).match(new RegExp(`^${name} (\\d+)$`, "m"))?.[1]);
    const reqs = [1, 2].map((i) => ({ messages: userMessage(`quarantine gauge ${i}`), max_tokens: 4, temperature: 0 }));
    for (const r of reqs) await chat(s, r);
    await waitFor(async () => (await gauge("gauntlet_cache_entries")) === 2);
    const recRoot = join(s.config.cacheDir, "responses");
    const recDir = join(recRoot, readdirSync(recRoot)[0]!);
    for (const f of readdirSync(recDir).filter((n) => n.endsWith(".rec"))) truncateSync(join(recDir, f), 10);
    // The regenerated answers' writes hang, so only the quarantine shows.
    fs.writes = true;
    await chat(s, reqs[0]!);
    expect(counter(await prom(s), "gauntlet_cache_corruptions_total")).toBe(1);
    expect(await gauge("gauntlet_cache_entries")).toBe(1);
    fs.release();
    await s.app.close();
  });

  test("record directories of an older model are removed at start-up and logged with their counts", async () => {
    const probe = await server();
    const dir = probe.config.cacheDir;
    await probe.app.close();
    const old = join(dir, "responses", "0123456789abcdef");
    mkdirSync(join(old, "quarantine"), { recursive: true });
    writeFileSync(join(old, `${"1".repeat(64)}.rec`), Buffer.alloc(700, 1));
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const s = await server({ cacheDir: dir }, false, { logLevel: "info", logStream: stream });
    await waitFor(async () => (await s.app.inject({ method: "GET", url: "/health" })).json().responseCache.staleModelDirsRemoved === 1);
    expect(readdirSync(join(dir, "responses"))).not.toContain("0123456789abcdef");
    expect(lines.find((l) => String(l.msg).includes("record directories of other models"))).toMatchObject({ dirs: 1, files: 1, bytes: 700 });
    await s.app.close();
  });
});
