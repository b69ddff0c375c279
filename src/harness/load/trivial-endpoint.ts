/**
 * A trivial OpenAI-compatible endpoint for measuring the harness itself: a bare node:http server on
 * 127.0.0.1 answering every POST /v1/chat/completions with a canned chat.completion, or a canned SSE
 * stream when the body asks for one. It runs in a worker thread, so its work does not share the
 * harness's event loop.
 */
import { Worker } from "node:worker_threads";

const CONTENT = ["Canned", " answer", " from", " the", " trivial", " endpoint", ".", ""];

/** Plain JavaScript: the worker runs it with eval, outside any TypeScript loader. */
const SOURCE = `
const http = require("node:http");
const { parentPort } = require("node:worker_threads");
const CONTENT = ${JSON.stringify(CONTENT.slice(0, -1))};
const timings = { queue_ms: 0, ttft_ms: 0.1, total_ms: 0.2, tokens_per_second: null };
const usage = { prompt_tokens: 8, completion_tokens: CONTENT.length, total_tokens: 8 + CONTENT.length };
const base = { id: "chatcmpl-trivial", created: 0, model: "trivial", system_fingerprint: null };
const json = JSON.stringify({ ...base, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: CONTENT.join("") }, finish_reason: "length" }], usage, timings });
const chunk = (delta, finish, extra) => "data: " + JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }], ...extra }) + "\\n\\n";
const sse = chunk({ role: "assistant", content: "" }, null) + CONTENT.map((c) => chunk({ content: c }, null)).join("") +
  chunk({}, "length", { timings }) + "data: " + JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage }) + "\\n\\ndata: [DONE]\\n\\n";
const server = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => { body += c; });
  req.on("end", () => {
    if (req.method !== "POST") { res.writeHead(404).end(); return; }
    if (body.includes('"stream":true')) { res.writeHead(200, { "content-type": "text/event-stream" }); res.end(sse); return; }
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) }).end(json);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
parentPort.on("message", (m) => { if (m === "close") { server.closeAllConnections(); server.close(() => parentPort.close()); } });
`;

export interface TrivialEndpoint {
  baseUrl: string;
  /** The canned answer's text. */
  text: string;
  close(): Promise<void>;
}

export async function startTrivialEndpoint(): Promise<TrivialEndpoint> {
  const worker = new Worker(SOURCE, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", (p: number) => resolve(p));
    worker.once("error", reject);
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    text: CONTENT.join(""),
    async close() {
      const exited = new Promise((r) => worker.once("exit", r));
      worker.postMessage("close");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      await worker.terminate();
    },
  };
}
