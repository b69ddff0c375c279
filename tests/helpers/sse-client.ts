/** A minimal streaming client for tests: POSTs and collects parsed SSE messages. */
import { createSseParser, type SseMessage } from "../../src/server/sse.js";

export interface StreamResult {
  status: number;
  headers: Headers;
  messages: SseMessage[];
  /** Parsed JSON of every data message except [DONE]. */
  chunks: Array<Record<string, any>>;
  done: boolean;
  text: string;
}

export async function streamChat(url: string, body: object, init: { signal?: AbortSignal; headers?: Record<string, string>; onChunk?: (c: Record<string, any>) => void } = {}): Promise<StreamResult> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify({ ...body, stream: true }),
    signal: init.signal,
  });
  const messages: SseMessage[] = [];
  const chunks: Array<Record<string, any>> = [];
  const parser = createSseParser((m) => {
    messages.push(m);
    if (m.data !== "[DONE]") {
      const c = JSON.parse(m.data) as Record<string, any>;
      chunks.push(c);
      init.onChunk?.(c);
    }
  });
  if (res.body) {
    for await (const part of res.body) parser.push(Buffer.from(part));
  }
  parser.end();
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
  return { status: res.status, headers: res.headers, messages, chunks, done: messages.at(-1)?.data === "[DONE]", text };
}
