/**
 * Regression tests for issue 4: corruption, memory pressure, engine timeouts, degraded mode and
 * recovery never take the server down or serve a wrong answer.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cacheKey } from "../../src/cache/cache-key.js";
import { TransientEngineError } from "../../src/errors.js";
import { bindAll } from "../../src/engine/retrying-engine.js";
import type { Engine } from "../../src/engine/types.js";
import { startTestServer, startTinyEngine, userMessage, type TestServer } from "../helpers/tiny-server.js";

let engine: Engine;
beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2 });
});
afterAll(async () => {
  await engine?.close();
});

const chat = (s: TestServer, payload: object) => s.app.inject({ method: "POST", url: "/v1/chat/completions", payload });
const health = async (s: TestServer) => (await s.app.inject({ method: "GET", url: "/health" })).json();

/** Polls `check` every 20 ms until it holds; fails after 10 s (a liveness bound, not a timing check). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met within 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function logCollector() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: { level: "warn", stream } };
}

describe("issue 4 regressions", () => {
  test("the server starts with a corrupted cache directory: valid records still hit, the bad one is counted and logged once", async () => {
    const first = await startTestServer({ slots: 1 }, { engine, server: { ownsEngine: false } });
    const good = { messages: userMessage("a valid cached answer"), max_tokens: 4, temperature: 0 };
    const damaged = { messages: userMessage("secret prompt text 7f3a"), max_tokens: 4, temperature: 0 };
    const goodText = (await chat(first, good)).json().choices[0].message.content;
    const damagedText = (await chat(first, damaged)).json().choices[0].message.content;
    const dir = first.config.cacheDir;
    await first.app.close();
    const recDir = join(dir, "responses", readdirSync(join(dir, "responses"))[0]!);
    const damagedKey = cacheKey(engine.info().fingerprint, damaged.messages as never, { maxTokens: 4, temperature: 0, topP: 1, seed: undefined, stop: [] });
    expect(readdirSync(recDir)).toContain(`${damagedKey}.rec`);
    // Damage of every kind: a flipped payload byte in a real record, a record that is a directory, a stray
    // temp file, a foreign file.
    const bytes = readFileSync(join(recDir, `${damagedKey}.rec`));
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x55;
    writeFileSync(join(recDir, `${damagedKey}.rec`), bytes);
    mkdirSync(join(recDir, `${"a".repeat(64)}.rec`));
    writeFileSync(join(recDir, `${"c".repeat(64)}.rec.1-x.tmp`), "half a write");
    writeFileSync(join(recDir, "notes.txt"), "hello");

    const logs = logCollector();
    const again = await startTestServer({ slots: 1, cacheDir: dir }, { engine, server: { ownsEngine: false, logger: logs.logger } });
    const hit = await chat(again, good);
    expect([hit.statusCode, hit.headers["x-cache-hit"], hit.json().choices[0].message.content]).toEqual([200, "true", goodText]);
    const regenerated = await chat(again, damaged);
    expect([regenerated.statusCode, regenerated.headers["x-cache-hit"], regenerated.json().choices[0].message.content]).toEqual([200, "false", damagedText]);
    expect((await chat(again, damaged)).headers["x-cache-hit"]).toBe("true");
    expect((await health(again)).status).toBe("healthy");
    const prom = (await again.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(prom).toMatch(/^gauntlet_cache_corruptions_total\{reason="checksum-mismatch"\} 1$/m);
    const corruptLines = logs.lines.filter((l) => l.includes("corrupt record quarantined"));
    expect(corruptLines).toHaveLength(1);
    expect(JSON.parse(corruptLines[0]!)).toMatchObject({ reason: "checksum-mismatch" });
    const text = logs.lines.join("\n");
    expect(text).not.toContain("secret prompt text");
    expect(text).not.toContain(dir);
    expect(text).not.toContain(damagedKey);
    await again.app.close();
  });

  test("a cache directory that is a file does not stop the server", async () => {
    const probe = await startTestServer({ slots: 1 }, { engine, server: { ownsEngine: false } });
    const dir = probe.config.cacheDir;
    await probe.app.close();
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, "not a directory");
    const s = await startTestServer({ slots: 1, cacheDir: dir }, { engine, server: { ownsEngine: false } });
    const req = { messages: userMessage("x"), max_tokens: 3, temperature: 0 };
    expect((await chat(s, req)).statusCode).toBe(200);
    // Memory still caches; health says why the disk is not used.
    expect((await chat(s, req)).headers["x-cache-hit"]).toBe("true");
    const h = await health(s);
    expect(h.status).toBe("degraded");
    expect(h.reasons.join(" ")).toMatch(/response cache's disk store cannot be used \((ENOTDIR|EEXIST)\)/);
    expect(h.responseCache).toMatchObject({ diskAvailable: false });
    expect(["ENOTDIR", "EEXIST"]).toContain(h.responseCache.diskError);
    // Once the directory can be used, the store opens on a later retry: no restart needed.
    rmSync(dir);
    for (let i = 0; i < 150 && (await health(s)).status !== "healthy"; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await health(s)).responseCache).toMatchObject({ diskAvailable: true, diskError: null });
    expect((await health(s)).status).toBe("healthy");
    await s.app.close();
  });

  test("memory pressure clears caches, critical pressure gives 503 with Retry-After, and it recovers", async () => {
    let usage = 0.5;
    const s = await startTestServer(
      { slots: 1, memory: { clearPct: 90, rejectPct: 95, checkMs: 100 } },
      { engine, server: { ownsEngine: false, memoryProbe: { limitBytes: 1000, readUsage: () => usage * 1000 } } },
    );
    const req = { messages: userMessage("pressure"), max_tokens: 4, temperature: 0 };
    const SYSTEM = "You are the memory pressure test assistant. Keep every answer short and plain.";
    expect((await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } })).json().tokens).toBeGreaterThan(10);
    await chat(s, req);
    expect((await s.app.inject({ method: "GET", url: "/cache" })).json().responses.memoryEntries).toBe(1);
    usage = 0.92;
    // The guard checks every 100 ms: wait (bounded) for it to see the pressure, not a fixed time.
    await until(async () => (await health(s)).memoryGuard?.state === "pressure");
    const cleared = (await s.app.inject({ method: "GET", url: "/cache" })).json();
    expect(cleared.responses.memoryEntries).toBe(0);
    // The prompt (KV) state goes too.
    expect(cleared).toMatchObject({ tokens: 0, systemPromptHash: null });
    const withSystem = await chat(s, { messages: [{ role: "system", content: SYSTEM }, { role: "user", content: "hi" }], max_tokens: 2, temperature: 0.5 });
    expect(withSystem.json().usage.prompt_tokens_details.cached_tokens).toBeLessThan(10);
    const h = await health(s);
    expect(h.status).toBe("degraded");
    expect(h.memoryGuard).toMatchObject({ state: "pressure", clears: 1, limitBytes: 1000 });
    usage = 0.97;
    await until(async () => (await health(s)).memoryGuard?.state === "critical");
    const refused = await chat(s, req);
    expect(refused.statusCode).toBe(503);
    const prom = (await s.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(prom).toMatch(/^gauntlet_memory_guard_state\{state="critical"\} 1$/m);
    expect(prom).toMatch(/^gauntlet_memory_guard_clears_total 1$/m);
    expect(refused.headers["retry-after"]).toBeDefined();
    expect(refused.json().error.code).toBe("memory_pressure");
    const warm = await s.app.inject({ method: "POST", url: "/cache/warm", payload: { prompt: SYSTEM } });
    expect([warm.statusCode, warm.json().error.code]).toEqual([503, "memory_pressure"]);
    expect(warm.headers["retry-after"]).toBeDefined();
    expect((await s.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    usage = 0.5;
    await until(async () => !["pressure", "critical"].includes((await health(s)).memoryGuard?.state));
    expect((await chat(s, req)).statusCode).toBe(200);
    expect((await health(s)).status).toBe("healthy");
    await s.app.close();
  });

  test("engine timeouts are retried with backoff and the answer is right", async () => {
    let failures = 2;
    const flaky: Engine = {
      ...bindAll(engine),
      generate: async (r, c) => {
        if (failures-- > 0) throw new TransientEngineError("engine timed out");
        return engine.generate(r, c);
      },
    };
    const expected = (await engine.generate({ messages: userMessage("retry me") as never, params: { maxTokens: 6, temperature: 0, topP: 1, stop: [] }, slot: 0 })).text;
    const s = await startTestServer({ slots: 1, retry: { maxRetries: 3, baseMs: 10 } }, { engine: flaky, server: { ownsEngine: false } });
    const res = await chat(s, { messages: userMessage("retry me"), max_tokens: 6, temperature: 0 });
    expect(res.statusCode).toBe(200);
    expect(res.json().choices[0].message.content).toBe(expected);
    expect(failures).toBe(-1);
    expect((await s.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(/^gauntlet_retries_total 2$/m);
    await s.app.close();
  });

  test("a failed native decode (node-llama-cpp's own error) is retried and the client never sees it", async () => {
    let failures = 1;
    const flaky: Engine = {
      ...bindAll(engine),
      generate: async (r, c) => {
        if (failures-- > 0) throw new Error("could not find a KV slot for the batch (try reducing the size of the batch or increase the context)");
        return engine.generate(r, c);
      },
    };
    const s = await startTestServer({ slots: 1, retry: { maxRetries: 3, baseMs: 10 } }, { engine: flaky, server: { ownsEngine: false } });
    const res = await chat(s, { messages: userMessage("native retry"), max_tokens: 4, temperature: 0 });
    expect(res.statusCode).toBe(200);
    expect((await s.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(/^gauntlet_retries_total 1$/m);
    await s.app.close();
  });

  test("an engine that keeps failing gives a clean 500 in the OpenAI shape, with no internals", async () => {
    const broken: Engine = { ...bindAll(engine), generate: async () => { throw new TransientEngineError("native failure at /secret/path/libllama.so"); } };
    const s = await startTestServer({ slots: 1, retry: { maxRetries: 2, baseMs: 1 } }, { engine: broken, server: { ownsEngine: false } });
    const res = await chat(s, { messages: userMessage("x"), max_tokens: 2 });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.type).toBe("server_error");
    expect(res.body).not.toContain("/secret");
    expect((await chat(s, { messages: [], max_tokens: 2 })).statusCode).toBe(400);
    await s.app.close();
  });

  test("degraded mode keeps serving, concurrent requests see no race, and the breaker recovers", async () => {
    const logs = logCollector();
    const s = await startTestServer(
      { slots: 2, breaker: { enabled: true, failureThreshold: 5, successThreshold: 2, cooldownMs: 200 } },
      { engine, server: { ownsEngine: false, logger: logs.logger } },
    );
    await chat(s, { messages: userMessage("warm up the store"), max_tokens: 2, temperature: 0 });
    const recRoot = join(s.config.cacheDir, "responses");
    // The store opens and writes in the background (records land after the answer): wait, bounded, for the record.
    const stored = () => (existsSync(recRoot) ? readdirSync(recRoot).some((d) => readdirSync(join(recRoot, d)).some((f) => f.endsWith(".rec"))) : false);
    for (let i = 0; i < 250 && !stored(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(stored()).toBe(true);
    const recDir = join(recRoot, readdirSync(recRoot)[0]!);
    // Pull the directory out from under the store: every write now fails.
    rmSync(recDir, { recursive: true, force: true });
    writeFileSync(recDir, "in the way");

    const prompts = Array.from({ length: 20 }, (_, i) => `degraded ${i}`);
    // References one at a time on the engine's slot 0, before the server uses it: no comparison is skipped.
    const expected: string[] = [];
    for (const p of prompts) expected.push((await engine.generate({ messages: userMessage(p) as never, params: { maxTokens: 6, temperature: 0, topP: 1, stop: [] }, slot: 0 })).text);
    const results = await Promise.all(prompts.map((p) => chat(s, { messages: userMessage(p), max_tokens: 6, temperature: 0 })));
    expect(results.map((r) => r.statusCode)).toEqual(prompts.map(() => 200));
    expect(results.map((r) => r.json().choices[0].message.content)).toEqual(expected);
    const h = await health(s);
    expect(h.status).toBe("degraded");
    expect(h.reasons.join(" ")).toMatch(/circuit breaker/);
    const open = (await s.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(open).toMatch(/^gauntlet_cache_breaker_state\{state="open"\} 1$/m);
    expect(open).toMatch(/^gauntlet_cache_breaker_transitions_total\{edge="closed->open"\} 1$/m);
    expect(open).toMatch(/^gauntlet_degraded 1$/m);

    // Recovery: the directory comes back, the cool-down passes, trial writes succeed.
    rmSync(recDir, { force: true });
    mkdirSync(recDir);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 4; i++) await chat(s, { messages: userMessage(`recover ${i}`), max_tokens: 2, temperature: 0 });
    // The trial writes land in the background: wait (bounded) for the breaker to close.
    for (let i = 0; i < 500 && (await health(s)).status !== "healthy"; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await health(s)).status).toBe("healthy");
    const closed = (await s.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(closed).toMatch(/^gauntlet_cache_breaker_state\{state="closed"\} 1$/m);
    expect(closed).toMatch(/^gauntlet_cache_breaker_transitions_total\{edge="half-open->closed"\} 1$/m);

    // Error logs are sanitized: no absolute paths, no prompt text.
    const text = logs.lines.join("\n");
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(s.config.cacheDir);
    expect(text).not.toContain("degraded 1");
    await s.app.close();
  });
});

describe("issue 4 regressions found later", () => {
  test("a cacheable request gets an immediate 503 when the queue is full, instead of waiting in the cache path", async () => {
    // Its own one-slot engine: the pool takes its slot count from the engine.
    const s = await startTestServer({ slots: 1, queueMax: 0 }, { listen: true });
    const long = fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: userMessage("long"), max_tokens: 1800 }) });
    for (let i = 0; i < 200 && (await health(s)).metrics.requestsInFlight !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    let longDone = false;
    void long.then(() => (longDone = true));
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: userMessage("q"), max_tokens: 4, temperature: 0 }) });
    expect(res.status).toBe(503);
    // Refused while the long generation still runs: it did not wait for the slot.
    expect(longDone).toBe(false);
    await long;
    await s.app.close();
  });

  test("a follower whose leader's client left generates for itself and gets the right answer", async () => {
    const s = await startTestServer({ slots: 2 }, { engine, listen: true, server: { ownsEngine: false } });
    const req = { messages: userMessage("leader leaves"), max_tokens: 300, temperature: 0 };
    const expected = (await engine.generate({ messages: req.messages as never, params: { maxTokens: 300, temperature: 0, topP: 1, stop: [] }, slot: 0 })).text;
    const ac = new AbortController();
    const leader = fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req), signal: ac.signal }).catch(() => null);
    await new Promise((r) => setTimeout(r, 30));
    const follower = fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req) });
    await new Promise((r) => setTimeout(r, 30));
    ac.abort();
    await leader;
    const res = await follower;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(expected);
    await s.app.close();
  });
});
