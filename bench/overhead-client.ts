/** The HTTP side of bench/overhead.ts, in a worker thread: times one request per message. */
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { createSseParser } from "../src/server/sse.js";

const { url, maxTokens } = workerData as { url: string; maxTokens: number };
const readyUrl = new URL("/health/ready", url).href;
const prompt = (tag: string, i: number) => [{ role: "user", content: `Request ${String(i).padStart(5, "0")} via ${tag}: describe the weather.` }];

/** The same client's round trip to a route that does no work: what the socket and client cost by themselves. */
async function noop(): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(readyUrl);
  await res.json();
  if (!res.ok) throw new Error(`GET /health/ready answered ${res.status}`);
  return performance.now() - t0;
}

async function once(mode: "http" | "stream" | "noop", i: number): Promise<number> {
  if (mode === "noop") return noop();
  const stream = mode === "stream";
  const t0 = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: prompt(stream ? "sse" : "htp", i), max_tokens: maxTokens, temperature: 0, stream }),
  });
  if (!stream) {
    await res.json();
    return performance.now() - t0;
  }
  let done = false;
  const parser = createSseParser((m) => {
    if (m.data === "[DONE]") done = true;
  });
  for await (const part of res.body!) parser.push(Buffer.from(part));
  if (!done) throw new Error("stream ended without [DONE]");
  return performance.now() - t0;
}

parentPort!.on("message", (m: { id: number; mode: "http" | "stream" | "noop"; i: number }) => {
  once(m.mode, m.i).then(
    (ms) => parentPort!.postMessage({ id: m.id, ms }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, ms: -1, error: String(err) }),
  );
});
