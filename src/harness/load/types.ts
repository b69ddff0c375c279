/** What the load clients record for each request. Times are monotonic milliseconds. */

export interface Answer {
  text: string;
  finishReason: string | null;
  /** From the server's `usage`, never counted from chunks; null when the server sent none. */
  completionTokens: number | null;
  promptTokens: number | null;
}

/** The response's own `timings` (JSON body or the stream's finish chunk); null fields when absent. */
export interface ServerTimings {
  totalMs: number | null;
  ttftMs: number | null;
  queueMs: number | null;
}

export interface RequestRecord {
  index: number;
  /** The planned request's content key (requests with the same key must get the same answer). */
  key: string;
  /** When the request was handed to the socket, on the run's clock. */
  sentAt: number;
  /** Open-loop runs: when it should have been sent; null in closed-loop runs. */
  scheduledAt: number | null;
  /** Sent to the last byte ([DONE] for streams), also for failures (time to the failure). */
  elapsedMs: number;
  /** Sent to the first chunk with content (streams only). */
  ttftMs: number | null;
  /** Gaps between consecutive content chunks (streams only). */
  itlMs: number[];
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Failure kind such as "http-500", "timeout", "stream-error", "incomplete-stream"; null when it completed. */
  error: string | null;
  answer: Answer | null;
  server: ServerTimings | null;
  /** The server's `x-cache-hit` header: true when the answer came from its response cache; null when absent. */
  cacheHit: boolean | null;
}

/** Sends one planned request and resolves with its record; never rejects. */
export type SendFn<P> = (plan: P) => Promise<RequestRecord>;
