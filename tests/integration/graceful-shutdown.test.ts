/**
 * Closing the server (SIGINT/SIGTERM in the binary) lets in-flight requests finish within
 * --shutdown-timeout-ms, then aborts what is still running and closes every connection, keep-alive ones
 * included: shutdown never waits for a long generation or for an idle client's keep-alive timeout.
 */
import { Agent, request } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import type { FastifyInstance } from "fastify";
import type { Engine, GenerateResult } from "../../src/engine/types.js";
import { standInEngine } from "../../src/harness/chaos/in-process.js";
import { buildServer } from "../../src/server/app.js";
import { streamChat } from "../helpers/sse-client.js";

let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** An engine that emits one token every 50 ms and honours its abort signal within a token. */
function slowEngine(): Engine {
  const base = standInEngine();
  return {
    ...base,
    async generate(req, onChunk): Promise<GenerateResult> {
      let text = "";
      for (let i = 0; i < req.params.maxTokens; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (req.signal?.aborted) return { text, finishReason: "length", promptTokens: 1, completionTokens: i, cachedTokens: 0, aborted: true };
        text += "x";
        onChunk?.({ type: "text", text: "x" });
      }
      return { text, finishReason: "length", promptTokens: 1, completionTokens: req.params.maxTokens, cachedTokens: 0, aborted: false };
    },
  };
}

/** A server whose engine emits a token every 50 ms: 1200 tokens take a minute. */
async function slowServer(shutdownTimeoutMs: number): Promise<{ app: FastifyInstance; port: number }> {
  const a = await buildServer({
    settings: { apiKey: null, slots: 2, queueMax: 4, timeoutMs: 60_000, shutdownTimeoutMs, bodyLimitBytes: 1 << 20, maxTokensLimit: 4096 },
    engine: slowEngine(),
    ownsEngine: false,
  });
  await a.listen({ host: "127.0.0.1", port: 0 });
  app = a;
  const addr = a.server.address();
  return { app: a, port: typeof addr === "object" && addr ? addr.port : 0 };
}

interface Answer {
  status: number;
  body: string;
  connection: string | undefined;
}

function post(port: number, agent: Agent, payload: object): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/v1/chat/completions", agent, headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(JSON.stringify(payload));
  });
}

const long = { messages: [{ role: "user", content: "a long answer" }], max_tokens: 1200, temperature: 0.7 };
/** A liveness bound, 20x the shutdown timeout: without the bound, close() waits for the whole generation. */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => "closed"), new Promise<string>((r) => setTimeout(() => r(`still open after ${ms} ms`), ms).unref())]);

describe("graceful shutdown within --shutdown-timeout-ms", () => {
  test("a request that finishes inside the bound is answered normally, and its keep-alive connection does not hold close()", async () => {
    const { app: a, port } = await slowServer(5000);
    const agent = new Agent({ keepAlive: true });
    const short = post(port, agent, { ...long, max_tokens: 6 });
    await new Promise((r) => setTimeout(r, 50));
    const closing = a.close();
    const answer = await short;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).choices[0].message.content.length).toBeGreaterThan(0);
    expect(await within(closing, 4000)).toBe("closed");
    agent.destroy();
  });

  test("a non-streaming generation still running at the bound is aborted with a 503 and close() returns", async () => {
    const { app: a, port } = await slowServer(300);
    const agent = new Agent({ keepAlive: true });
    const pending = post(port, agent, long);
    await new Promise((r) => setTimeout(r, 100));
    const closing = a.close();
    expect(await within(closing, 6000)).toBe("closed");
    const answer = await pending;
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body).error.code).toBe("shutting_down");
    agent.destroy();
  });

  test("a stream still running at the bound ends with an SSE error event, and close() returns", async () => {
    const { app: a, port } = await slowServer(300);
    let closing: Promise<void> | null = null;
    const result = await streamChat(`http://127.0.0.1:${port}`, long, {
      onChunk: () => {
        closing ??= a.close();
      },
    });
    expect(result.status).toBe(200);
    expect(closing).not.toBeNull();
    expect(await within(closing!, 6000)).toBe("closed");
    const error = result.messages.find((m) => m.event === "error");
    expect(error, JSON.stringify(result.messages.slice(-3))).toBeDefined();
    expect(JSON.parse(error!.data).error.code).toBe("shutting_down");
  });
});
