import { Writable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, userMessage, type TestServer } from "../helpers/tiny-server.js";
import { streamChat } from "../helpers/sse-client.js";

const lines: Array<Record<string, any>> = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const l of String(chunk).split("\n")) if (l) lines.push(JSON.parse(l));
    cb();
  },
});

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ slots: 2, queueMax: 32 }, { listen: true, server: { logLevel: "debug", logStream: sink } });
});
afterAll(async () => {
  await s?.app.close();
});

const spec = fc.record({
  kind: fc.constantFrom("plain", "stream", "invalid"),
  maxTokens: fc.integer({ min: 1, max: 6 }),
  delayMs: fc.integer({ min: 0, max: 8 }),
  sendSession: fc.boolean(),
});

let run = 0;

async function send(r: { kind: string; maxTokens: number; delayMs: number; sendSession: boolean }, reqId: string, sessionId: string): Promise<string> {
  await new Promise((res) => setTimeout(res, r.delayMs));
  const headers: Record<string, string> = { "x-request-id": reqId, ...(r.sendSession ? { "x-session-id": sessionId } : {}) };
  // Unseeded sampling is never cached, so every valid request really generates (and logs from the engine side).
  const body = { messages: userMessage(`context ${reqId}`), max_tokens: r.maxTokens, temperature: 0.8 };
  if (r.kind === "stream") return (await streamChat(s.url, body, { headers })).headers.get("x-session-id")!;
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(r.kind === "invalid" ? { messages: [] } : body),
  });
  await res.arrayBuffer();
  return res.headers.get("x-session-id")!;
}

describe("log context", () => {
  test("concurrent requests never see each other's request or session ids in any log line", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { minLength: 2, maxLength: 6 }), async (reqs) => {
        const id = run++;
        const from = lines.length;
        const ids = reqs.map((_, i) => ({ reqId: `r${id}-${i}`, sessionId: `s${id}-${i}` }));
        const sessions = await Promise.all(reqs.map((r, i) => send(r, ids[i]!.reqId, ids[i]!.sessionId)));
        const expected = new Map(ids.map((x, i) => [x.reqId, sessions[i]!]));
        // Summary lines are written as each response ends; wait until all are in.
        for (let tries = 0; tries < 200; tries++) {
          const done = lines.slice(from).filter((l) => l.msg === "request completed" && expected.has(l.reqId)).length;
          if (done === reqs.length) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        const mine = lines.slice(from).filter((l) => expected.has(l.reqId));
        for (const l of mine) expect(l.sessionId, `${l.msg} of ${l.reqId}`).toBe(expected.get(l.reqId));
        for (const [i, r] of reqs.entries()) {
          const own = mine.filter((l) => l.reqId === ids[i]!.reqId).map((l) => l.msg);
          expect(own.filter((m) => m === "request completed")).toHaveLength(1);
          // These come from the inference service's logger, which knows nothing of requests: only the context can name them.
          if (r.kind !== "invalid") expect(own).toEqual(expect.arrayContaining(["generation started", "generation finished"]));
        }
        // No line written during the run names a request id the run did not send, nor lacks one.
        for (const l of lines.slice(from)) expect(expected.has(l.reqId), JSON.stringify(l)).toBe(true);
      }),
      { numRuns: 12 },
    );
  }, 60_000);
});
