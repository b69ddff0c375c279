/**
 * Turns an SSE chat stream into a record: TTFT at the first chunk that carries content (the empty
 * role chunk does not count), ITL between content chunks, text, finish_reason, the server's timings
 * from the finish chunk and token counts from the usage chunk (stream_options.include_usage).
 * Pure: the caller says when each piece of bytes arrived.
 */
import { createSseParser } from "../../server/sse.js";
import type { Answer, ServerTimings } from "./types.js";

type Json = Record<string, unknown>;
export const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
export const obj = (v: unknown): Json | null => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : null);

export function serverTimings(v: unknown): ServerTimings | null {
  const t = obj(v);
  return t ? { totalMs: num(t.total_ms), ttftMs: num(t.ttft_ms), queueMs: num(t.queue_ms) } : null;
}

export interface StreamOutcome {
  answer: Answer;
  server: ServerTimings | null;
  /** From the send time; null when no content arrived. */
  ttftMs: number | null;
  itlMs: number[];
  /** Failure kind, or null when the stream ended with [DONE] and no error event. */
  error: string | null;
}

export interface StreamRecorder {
  /** Bytes received at monotonic time `at`. */
  push(bytes: Buffer, at: number): void;
  end(): StreamOutcome;
}

export function createStreamRecorder(sentAt: number): StreamRecorder {
  const text: string[] = [];
  const itlMs: number[] = [];
  let ttftMs: number | null = null;
  let finishReason: string | null = null;
  let usage: Json | null = null;
  let server: ServerTimings | null = null;
  let done = false;
  let failure: string | null = null;
  let lastContentAt: number | null = null;
  let at = sentAt;
  const parser = createSseParser((m) => {
    if (m.event === "error") { failure ??= "stream-error"; return; }
    if (m.data === "[DONE]") { done = true; return; }
    let chunk: Json | null;
    try { chunk = obj(JSON.parse(m.data)); } catch { failure ??= "bad-chunk"; return; }
    if (!chunk) return;
    if (obj(chunk.error)) { failure ??= "stream-error"; return; }
    const choice = obj((chunk.choices as unknown[] | undefined)?.[0]);
    const content = obj(choice?.delta)?.content;
    if (typeof content === "string" && content !== "") {
      if (lastContentAt === null) ttftMs = at - sentAt;
      else itlMs.push(at - lastContentAt);
      lastContentAt = at;
      text.push(content);
    }
    if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
    if (obj(chunk.usage)) usage = obj(chunk.usage);
    if (obj(chunk.timings)) server = serverTimings(chunk.timings);
  });
  return {
    push(bytes, time) {
      at = time;
      parser.push(bytes);
    },
    end() {
      const { incomplete } = parser.end();
      return {
        answer: { text: text.join(""), finishReason, completionTokens: num(usage?.completion_tokens), promptTokens: num(usage?.prompt_tokens) },
        server,
        ttftMs,
        itlMs,
        error: failure ?? (done && !incomplete ? null : "incomplete-stream"),
      };
    },
  };
}
