import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sendChat } from "../../src/harness/load/chat-client.js";
import type { PlannedRequest } from "../../src/harness/scenarios/plan.js";

let server: http.Server;
let base = "";
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const bodies: unknown[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString()) as { messages: { content: string }[]; stream: boolean };
      bodies.push(body);
      const mode = body.messages[0]!.content;
      if (mode === "fail") { res.writeHead(500, { "content-type": "application/json" }).end('{"error":{}}'); return; }
      if (mode === "hang") return;
      if (mode === "cut") { res.writeHead(200, { "content-type": "text/event-stream" }); res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'); setTimeout(() => res.destroy(), 5); return; }
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write('data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n');
        res.write('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n');
        res.write('data: {"choices":[{"delta":{},"finish_reason":"stop"}],"timings":{"total_ms":3,"ttft_ms":1,"queue_ms":0}}\n\n');
        res.end('data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1}}\n\ndata: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-cache-hit": "true" }).end(JSON.stringify({
        choices: [{ message: { role: "assistant", content: "hello" }, finish_reason: "length" }],
        usage: { prompt_tokens: 4, completion_tokens: 2 },
        timings: { total_ms: 2.5, ttft_ms: 1, queue_ms: 0.1 },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  agent.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const plan = (content: string, stream = false): PlannedRequest => ({
  index: 3, key: "k", body: { messages: [{ role: "user", content }], max_tokens: 2, temperature: 0, stream },
});
const opts = (timeoutMs = 5000) => ({ baseUrl: base, agent, timeoutMs, now: () => performance.now() });

describe("sendChat", () => {
  test("records a plain answer with usage and the server's timings", async () => {
    const rec = await sendChat(opts(), plan("plain"));
    expect(rec).toMatchObject({ index: 3, key: "k", status: 200, error: null, ttftMs: null, cacheHit: true, server: { totalMs: 2.5, ttftMs: 1, queueMs: 0.1 } });
    expect(rec.answer).toEqual({ text: "hello", finishReason: "length", completionTokens: 2, promptTokens: 4 });
    expect(bodies.at(-1)).toEqual(plan("plain").body);
  });

  test("records a stream with its first-content time, usage and finish-chunk timings", async () => {
    const rec = await sendChat(opts(), plan("stream", true));
    expect(rec.error).toBeNull();
    expect(rec.ttftMs).not.toBeNull();
    expect(rec.answer).toEqual({ text: "hi", finishReason: "stop", completionTokens: 1, promptTokens: 4 });
    expect(rec.server).toEqual({ totalMs: 3, ttftMs: 1, queueMs: 0 });
  });

  test("classifies an HTTP error, a stream cut off and a timeout", async () => {
    expect((await sendChat(opts(), plan("fail"))).error).toBe("http-500");
    expect((await sendChat(opts(), plan("cut", true))).error).toMatch(/incomplete-stream|connection-reset/);
    expect((await sendChat(opts(200), plan("hang"))).error).toBe("timeout");
  });

  test("reports a refused connection without throwing", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const rec = await sendChat({ ...opts(), baseUrl: `http://127.0.0.1:${port}` }, plan("plain"));
    expect(rec).toMatchObject({ status: null, error: "connection-refused", answer: null });
  });
});
