/**
 * The engine boundary. Everything outside src/engine talks to an Engine; only
 * src/engine/llama-engine.ts imports node-llama-cpp.
 */

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface SamplingParams {
  /** Maximum tokens to generate. */
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  /** Fixed seed for reproducible sampling at temperature > 0. */
  seed?: number | undefined;
  /** Stop strings: generation ends before the first occurrence; the stop string is not returned. */
  stop: string[];
}

export interface GenerateRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  /** Aborts generation within one token. */
  signal?: AbortSignal | undefined;
  /** Routing hint for prefix reuse (X-Session-Id). */
  sessionId?: string | undefined;
  /** The slot (from the slot pool) this generation runs on. */
  slot?: number | undefined;
}

export type FinishReason = "stop" | "length";

/** One piece of generated text. Text is always whole UTF-8 characters. */
export interface GenerateChunk {
  type: "text";
  text: string;
}

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens reused from a slot's KV cache instead of evaluated again. */
  cachedTokens: number;
  /** Whether generation ended because the signal aborted. */
  aborted: boolean;
  /** The generated token ids, in order (engines on a real model; absent where an engine has no tokens). */
  tokens?: readonly number[];
}

export interface EngineInfo {
  /** Model id served in /v1/models and in responses. */
  modelId: string;
  /** SHA-256 of the model file, hex. */
  fingerprint: string;
  fileSizeBytes: number;
  contextSize: number;
  slots: number;
  threads: number;
  /** Threads one slot may use while the others are idle, when more than `threads`. */
  maxThreads?: number;
  gpu: string | false;
  /** Which native build runs: "prebuilt" or "local". */
  build: string;
  /** How tokens are generated: "native" (addon calls) or "evaluate" (sequence.evaluate()). */
  generationPath?: string;
  /** "contexts" (a context per slot) or "batched" (slots share one context, decoded together). */
  layout?: string;
  /** Why the native generation path was asked for but is not used (say it at start-up). */
  generationPathNote?: string;
  /**
   * Native path only: libuv hand-offs per generated token. 0 with an addon built by `gauntlet engine build`
   * (generateTokens: the token loop runs natively, contexts layout), 1 with its decodeBatchAndSampleToken alone,
   * 2 with the npm prebuilt addon (decodeBatch, then sampleToken).
   */
  handOffsPerToken?: 0 | 1 | 2;
}

/** Cumulative counters since the engine started (for /metrics: export them as counters, not gauges). */
export interface EngineStats {
  /** Generations run (finished, stopped or aborted). */
  generations: number;
  /** Prompt tokens evaluated (not found in a slot's KV cache). */
  promptTokensEvaluated: number;
  /** Prompt tokens reused from a slot's KV cache (prefix cache hits, in tokens). */
  promptTokensReused: number;
  completionTokens: number;
  /** Slot choices decided by the session (X-Session-Id) that last used the slot. */
  sessionRoutes: number;
  /** Slot choices decided by the longest cached prompt prefix (a non-empty one). */
  prefixRoutes: number;
  /** Times the warmed system prompt's saved state was restored into a slot instead of evaluated again. */
  warmRestores?: number;
  /** Text tokenizations answered from the tokenizer cache / computed. */
  tokenizerCacheHits: number;
  tokenizerCacheMisses: number;
  /** Slots generating right now (a gauge). */
  busySlots: number;
  /** Mean single-token decode time (ms) of a lone generation per thread count (the thread governor's view). */
  decodeMsByThreads?: Record<number, number>;
}

export interface Engine {
  info(): EngineInfo;
  /** Number of tokens the chat prompt takes (for validation against the context size). */
  countPromptTokens(messages: ChatMessage[]): Promise<number>;
  /**
   * Generate on one free slot. The caller (the slot pool) guarantees that at most
   * `info().slots` generations run at once. `onChunk` receives text as it is produced.
   */
  generate(req: GenerateRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<GenerateResult>;
  /**
   * Picks, among free slots, the one best placed to serve these messages: the slot the session
   * (X-Session-Id) last used, else the longest cached prompt prefix.
   */
  chooseSlot?(free: number[], messages: ChatMessage[], sessionId?: string): number;
  /**
   * Does the work on a request that needs no slot (the prompt's tokens), for a request that waits for one:
   * generate() then starts decoding at once when the slot is free. Best effort: it may throw, and
   * generate() does the work itself (and reports any problem) when prepare was not called or failed.
   */
  prepare?(messages: ChatMessage[]): void;
  /**
   * Evaluates a system prompt's tokens into a slot's KV cache without generating, so later requests
   * that start with it reuse that state. The caller holds the slot (from the pool). Returns the
   * number of prefix tokens now held.
   */
  warmSystemPrompt?(systemPrompt: string, slot: number): Promise<number>;
  /**
   * The warmed system prompt (warmSystemPrompt) as it stands: its tokens (0 = none), the slots whose
   * KV cache holds it right now, and whether its state is saved so that it can be restored into
   * any slot (requests starting with it then reuse it even after other prompts evicted it).
   */
  promptCacheState?(): { tokens: number; residentSlots: number[]; persisted: boolean };
  /** Forgets every slot's cached prompt state and the warmed system prompt. The caller holds every slot or knows none is busy. */
  clearPromptState?(): Promise<void>;
  /** Cumulative counters (prefix reuse, tokens, routing). */
  stats?(): EngineStats;
  close(): Promise<void>;
}
