import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withChaos } from "../../src/engine/chaos-engine.js";
import type { Engine } from "../../src/engine/types.js";
import { parseExposition, sampleValue } from "../../src/observability/exposition.js";
import { streamChat } from "../helpers/sse-client.js";
import { startTestServer, startTinyEngine, tinyModelPath, userMessage, type TestServer } from "../helpers/tiny-server.js";

/** Captures the JSON lines a server writes. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  return { stream, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

const KEY = "sk-log-hygiene-" + "k3y-that-must-never-be-logged";
const WRONG_KEY = "sk-wrong-" + "key-also-never-logged";
const PROMPTS = {
  plain: "PROMPT-plain-purple-elephant",
  stream: "PROMPT-stream-singing-teapot",
  invalid: "PROMPT-invalid-json-whispering-cactus",
  long: "PROMPT-long-" + "overflowing ".repeat(3000),
  unauthorized: "PROMPT-unauthorized-hidden-lantern",
  timeout: "PROMPT-timeout-slow-glacier",
  abort: "PROMPT-abort-vanishing-kite",
  cached: "PROMPT-cached-twice-amber-otter",
  engineError: "PROMPT-engine-error-broken-compass",
  midStreamError: "PROMPT-mid-stream-error-falling-star",
};
const ERROR_REQUEST_ID = "req-engine-error-500";
const MID_STREAM_REQUEST_ID = "req-engine-error-mid-stream";

let engine: Engine;
let s: TestServer;
const logs = capture();
let completions: string[] = [];
let serverErrorBody: { status: number; body: any } | null = null;
let midStreamError: string | null = null;

beforeAll(async () => {
  engine = await startTinyEngine({ slots: 2 });
  s = await startTestServer({ slots: 2, apiKey: KEY }, { listen: true, engine, server: { ownsEngine: false, logLevel: "trace", logStream: logs.stream } });

  // A whole integration run: streamed and not, errors, auth failures, a timeout, an abort.
  const auth = { authorization: `Bearer ${KEY}` };
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const plain = (await (await post(JSON.stringify({ messages: userMessage(PROMPTS.plain), max_tokens: 12 }), auth)).json()) as any;
  completions.push(plain.choices[0].message.content);
  const streamed = await streamChat(s.url, { messages: userMessage(PROMPTS.stream), max_tokens: 12 }, { headers: auth });
  completions.push(streamed.text);
  await post(`{"messages": [{"role": "user", "content": "${PROMPTS.invalid}"`, auth);
  await post(JSON.stringify({ messages: userMessage(PROMPTS.long), max_tokens: 2 }), auth);
  await post(JSON.stringify({ messages: userMessage(PROMPTS.unauthorized), max_tokens: 2 }), { authorization: `Bearer ${WRONG_KEY}` });
  await post(JSON.stringify({ messages: userMessage(PROMPTS.unauthorized), max_tokens: 2 }), {});
  await fetch(`${s.url}/v1/metrics?category=cache`, { headers: auth });
  await fetch(`${s.url}/no/such/route`, { headers: auth });
  const ac = new AbortController();
  let n = 0;
  await streamChat(s.url, { messages: userMessage(PROMPTS.abort), max_tokens: 1800 }, { signal: ac.signal, headers: auth, onChunk: () => void (++n === 3 && ac.abort()) }).catch(() => null);
  // A request over the time limit mid-stream, on a second server sharing the capture.
  const slow = await startTestServer({ slots: 1, timeoutMs: 50 }, { listen: true, engine, server: { ownsEngine: false, logLevel: "trace", logStream: logs.stream } });
  const timedOut = await streamChat(slow.url, { messages: userMessage(PROMPTS.timeout), max_tokens: 1800 });
  completions.push(timedOut.text);
  await slow.app.close();
  // The same deterministic request twice: the second is answered from the response cache.
  for (let i = 0; i < 2; i++) {
    const cached = (await (await post(JSON.stringify({ messages: userMessage(PROMPTS.cached), max_tokens: 12, temperature: 0 }), auth)).json()) as any;
    completions.push(cached.choices[0].message.content);
  }
  // Engine failures (the project's chaos engine over the real one, no retries): a 500, and an error event mid-stream.
  const failing = await startTestServer({ slots: 1, retry: { maxRetries: 0 } }, { listen: true, engine: withChaos(engine, { mode: "tagged" }), server: { ownsEngine: false, logLevel: "info", logStream: logs.stream } });
  const broken = await fetch(`${failing.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": ERROR_REQUEST_ID },
    body: JSON.stringify({ messages: userMessage(`[chaos:throw] ${PROMPTS.engineError}`), max_tokens: 4 }),
  });
  serverErrorBody = { status: broken.status, body: (await broken.json()) as any };
  const midStream = await streamChat(failing.url, { messages: userMessage(`[chaos:throw:2] ${PROMPTS.midStreamError}`), max_tokens: 8 }, { headers: { "x-request-id": MID_STREAM_REQUEST_ID } });
  midStreamError = midStream.messages.find((m) => m.event === "error")?.data ?? null;
  await failing.app.close();
  completions = completions.filter((c) => c.length >= 8);
});
afterAll(async () => {
  await s?.app.close();
  await engine?.close();
});

describe("structured logs", () => {
  test("are JSON lines at all", () => {
    expect(logs.lines.length).toBeGreaterThan(10);
    for (const l of logs.lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  test("never contain a prompt, a completion, an API key or the repository's absolute path", () => {
    const all = logs.lines.join("\n");
    for (const p of Object.values(PROMPTS)) expect(all).not.toContain(p.slice(0, 40));
    for (const c of completions) expect(all).not.toContain(c);
    expect(completions.length).toBeGreaterThan(0);
    expect(all).not.toContain(KEY);
    expect(all).not.toContain(WRONG_KEY);
    expect(all).not.toContain(process.cwd());
  });

  test("write one summary line per request with status, tokens, timings, cache hit, finish_reason, method and route", () => {
    const summaries = logs.parsed().filter((l) => l.msg === "request completed");
    expect(summaries.length).toBe(new Set(summaries.map((l) => l.reqId)).size);
    const ok = summaries.find((l) => l.route === "/v1/chat/completions" && l.status === 200 && l.outcome === "success");
    expect(ok).toMatchObject({ level: 30, method: "POST", cacheHit: false, finishReason: "length", completionTokens: 12 });
    expect(ok!.promptTokens).toBeGreaterThan(0);
    expect(ok!.ttftMs).toBeGreaterThan(0);
    expect(ok!.totalMs).toBeGreaterThanOrEqual(ok!.ttftMs);
    expect(ok!.durationMs).toBeGreaterThan(0);
    const statuses = summaries.filter((l) => l.route === "/v1/chat/completions").map((l) => `${l.status}/${l.outcome}`);
    expect(statuses).toEqual(expect.arrayContaining(["200/success", "400/invalid", "401/unauthorized", "200/aborted", "200/timeout"]));
    expect(summaries.some((l) => l.route === null && l.status === 404)).toBe(true);
    expect(summaries.some((l) => l.route === "/v1/metrics" && l.status === 200)).toBe(true);
  });

  test("a request answered from the response cache gets a summary line with cacheHit true", () => {
    const summaries = logs.parsed().filter((l) => l.msg === "request completed" && l.route === "/v1/chat/completions" && l.outcome === "success");
    const hit = summaries.filter((l) => l.cacheHit === true);
    expect(hit).toHaveLength(1);
    expect(hit[0]).toMatchObject({ status: 200, finishReason: "length", completionTokens: 12, queueMs: null });
    expect(hit[0]!.ttftMs).toBeGreaterThanOrEqual(0);
    expect(hit[0]!.totalMs).toBeGreaterThanOrEqual(hit[0]!.ttftMs);
  });

  test("a 500 keeps its promise: the error's type and message are in the log under the request's id", () => {
    expect(serverErrorBody!.status).toBe(500);
    expect(serverErrorBody!.body.error.message).toMatch(/details are in its log under this request's id/);
    const line = logs.parsed().find((l) => l.reqId === ERROR_REQUEST_ID && l.msg === "unhandled error");
    expect(line).toBeDefined();
    expect(line!.level).toBe(50);
    expect(line!.err).toMatchObject({ type: "ChaosEngineError", message: expect.stringContaining("injected engine failure") });
    // The stack is there, with its absolute paths replaced.
    expect(line!.err.stack).toMatch(/^\s+at /);
    expect(line!.err.stack).not.toContain(process.cwd());
    expect(logs.parsed().find((l) => l.reqId === ERROR_REQUEST_ID && l.msg === "request completed")).toMatchObject({ status: 500, outcome: "error" });
  });

  test("an engine failure mid-stream is logged with the sanitised error too", () => {
    expect(midStreamError).toContain("internal_error");
    const line = logs.parsed().find((l) => l.reqId === MID_STREAM_REQUEST_ID && l.msg === "generation failed mid-stream");
    expect(line).toBeDefined();
    expect(line!.err).toMatchObject({ type: "ChaosEngineError", message: expect.stringContaining("injected engine failure after 2 chunk(s)") });
  });

  test("every line written while serving a request carries its request and session ids", () => {
    const parsed = logs.parsed();
    const inRequest = parsed.filter((l) => l.reqId !== undefined);
    expect(inRequest.length).toBeGreaterThan(0);
    for (const l of inRequest) expect(typeof l.sessionId).toBe("string");
    // Lines without ids are the server's own lifecycle, never request work.
    const rest = parsed.filter((l) => l.reqId === undefined).map((l) => String(l.msg));
    for (const msg of rest) expect(msg).toMatch(/^Server listening at /);
    // The engine-side debug lines come from a logger that knows nothing of requests: the ids come from the context.
    const gen = parsed.filter((l) => l.msg === "generation finished");
    expect(gen.length).toBeGreaterThan(0);
    for (const l of gen) expect(l.reqId).toBeDefined();
  });

  test("one request's lines all carry the same session id", () => {
    const byReq = new Map<string, Set<string>>();
    for (const l of logs.parsed()) {
      if (l.reqId === undefined) continue;
      const set = byReq.get(l.reqId) ?? new Set<string>();
      set.add(l.sessionId);
      byReq.set(l.reqId, set);
    }
    for (const set of byReq.values()) expect(set.size).toBe(1);
  });
});

describe("a failing log destination", () => {
  const failing = [
    ["a stream whose writes fail (disk full)", () => new Writable({ write: (_c, _e, cb) => cb(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" })) })],
    ["a destination that throws (closed pipe)", () => ({ write: () => { throw Object.assign(new Error("EPIPE: broken pipe"), { code: "EPIPE" }); } })],
    ["a stream that is already destroyed", () => { const w = new Writable({ write: (_c, _e, cb) => cb() }); w.destroy(); return w; }],
  ] as const;

  for (const [what, make] of failing) {
    test(`${what} never crashes the server nor fails a request, and is counted`, async () => {
      const t = await startTestServer({ slots: 1 }, { listen: true, engine, server: { ownsEngine: false, logLevel: "info", logStream: make() } });
      try {
        const plain = await fetch(`${t.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: userMessage("log sink broken"), max_tokens: 3 }),
        });
        expect(plain.status).toBe(200);
        const streamed = await streamChat(t.url, { messages: userMessage("log sink broken stream"), max_tokens: 3 });
        expect(streamed.done).toBe(true);
        expect((await fetch(`${t.url}/health`)).status).toBe(200);
        const metrics = parseExposition(await (await fetch(`${t.url}/metrics`)).text());
        expect(sampleValue(metrics, "gauntlet_log_write_errors_total")).toBeGreaterThanOrEqual(3);
      } finally {
        await t.app.close();
      }
    });
  }
});

describe("gauntlet serve's stdout", () => {
  test("holds only JSON lines: the human-readable lines go to stderr", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const args = ["serve", "--host", "127.0.0.1", "--port", String(port), "--model", await tinyModelPath(), "--cache-dir", mkdtempSync(join(tmpdir(), "gauntlet-logs-cli-")), "--log-level", "info"];
    const child = spawn(process.execPath, [join(process.cwd(), "bin", "gauntlet.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 300 && !(await fetch(`${base}/health/ready`).then((r) => r.status === 200, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: userMessage("stdout purity"), max_tokens: 3 }) });
      expect(res.status).toBe(200);
      // The serving line is written after the model is ready; wait for it (liveness bound only).
      for (let i = 0; i < 100 && !stderr.includes("gauntlet: serving"); i++) await new Promise((r) => setTimeout(r, 50));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    const lines = stdout.split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThan(0);
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        throw new Error(`stdout line is not JSON: ${l.slice(0, 200)}`);
      }
    });
    expect(parsed.some((l) => l.msg === "request completed")).toBe(true);
    expect(parsed.some((l) => l.msg === "model loaded")).toBe(true);
    expect(stderr).toMatch(/gauntlet: serving .* on http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toMatch(/gauntlet: SIGTERM received/);
  }, 120_000);
});
