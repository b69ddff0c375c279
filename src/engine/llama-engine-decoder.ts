/**
 * How native slots get their tokens decoded:
 * - direct: each slot owns a context and decodes alone (slots run in parallel on libuv workers);
 * - batched: the slots are sequences of one context, and one decode serves every generating slot
 *   at once (continuous batching, as llama.cpp's server does): one native hand-off per step for all
 *   slots instead of one per slot. A slot's logits live until the next decode of the context, so a
 *   batch is only dispatched when every slot has sampled from the previous one.
 */
import { performance } from "node:perf_hooks";

/** The addon calls a decoder needs (node-llama-cpp's AddonContext). */
export interface DecodeContext {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, firstTokenPos: number, tokens: Uint32Array, logitIndexes: Uint32Array): ArrayLike<number>;
  decodeBatch(): Promise<void>;
  setThreads(threads: number): void;
  /**
   * Decode the batch and sample at `batchLogitIndex` in one native call (one libuv hand-off instead of two):
   * only in an addon built by `gauntlet engine build` (src/engine/addon-patch.ts). Resolves the token, or -1.
   */
  decodeBatchAndSampleToken?(batchLogitIndex: number, sampler: unknown): Promise<number>;
  /**
   * The token loop in one native call (a `gauntlet engine build` addon, src/engine/addon-patch.ts): decodes `token`
   * at `pos` and every token sampled after it, at most `maxDecodes`, handing each sampled token to `onToken` (on
   * the main thread, in order, without waiting for it) until `stop[0]` is set, an end-of-generation token or the
   * limit. Resolves the tokens it decoded into the KV cache, after every onToken call.
   */
  generateTokens?(token: number, pos: number, sequenceId: number, maxDecodes: number, sampler: unknown, stop: Int32Array, onToken: (token: number) => void): Promise<Uint32Array>;
}

/** The engine's say on threads: asked before every decode, told how long a generation step took. */
export interface DecodeThreads {
  /** `steps` = sequences advanced by one token in this decode (0 for a decode with prompt tokens). */
  acquire(steps: number): { threads: number; done(ms: number): void };
}

export interface SlotDecoder {
  /** Decodes `tokens` of sequence `seq` from position `pos`; resolves with the logit index of the last token, or -1. */
  decode(seq: number, pos: number, tokens: readonly number[], wantLogits: boolean): Promise<number>;
  /** The sequence has sampled from (or no longer needs) the logits of its last decode. */
  release(seq: number): void;
  /** The sequence starts / stops generating (a batch waits for every generating sequence). */
  enter(seq: number): void;
  leave(seq: number): void;
  /** Runs `work` (a native call on the context's KV cache, e.g. loading a state) while no decode runs on the context. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Decodes `tokens` like decode(…, true) and samples the next token with `sampler` in the same native
   * hand-off; resolves the token (or -1). Only where the addon has decodeBatchAndSampleToken (direct decoder).
   */
  decodeAndSample?(seq: number, pos: number, tokens: readonly number[], sampler: unknown): Promise<number>;
  /**
   * The rest of a generation in one native call (DecodeContext.generateTokens): only where the addon has it
   * (direct decoder). Resolves the tokens decoded into the KV cache.
   */
  loop?(seq: number, pos: number, token: number, maxDecodes: number, sampler: unknown, stop: Int32Array, onToken: (token: number) => void): Promise<Uint32Array>;
}

function threadSetter(ctx: DecodeContext) {
  let current = -1;
  return (threads: number) => {
    if (threads !== current) {
      ctx.setThreads(threads);
      current = threads;
    }
  };
}

/**
 * One context per slot, decoded by it alone, right away, in chunks of at most `batchSize` tokens. `handOffs`: how
 * the addon's extra methods are used where it has them: "loop" (default) = generateTokens for the token loop and
 * decodeBatchAndSampleToken for the prompt; "one" = decodeBatchAndSampleToken for every token; "two" = the two stock
 * calls (decodeBatch, then sampleToken). The last two are kept for side-by-side comparisons.
 */
export function createDirectDecoder(ctx: DecodeContext, batchSize: number, threads: DecodeThreads, handOffs: HandOffs = "loop"): SlotDecoder {
  const setThreads = threadSetter(ctx);
  /** Decodes `tokens` in chunks of at most `batchSize`; the last chunk is dispatched by `dispatchLast` (given its logit index). */
  const chunks = async (seq: number, pos: number, tokens: readonly number[], wantLogits: boolean, dispatchLast: (logitIndex: number) => Promise<number>) => {
    let result = -1;
    for (let start = 0; start < tokens.length; start += batchSize) {
      const chunk = tokens.slice(start, start + batchSize);
      const last = start + batchSize >= tokens.length;
      const lease = threads.acquire(chunk.length === 1 ? 1 : 0);
      setThreads(lease.threads);
      ctx.initBatch(chunk.length);
      const indexes = ctx.addToBatch(seq, pos + start, Uint32Array.from(chunk), last && wantLogits ? Uint32Array.of(chunk.length - 1) : new Uint32Array(0));
      const t0 = performance.now();
      if (last) result = await dispatchLast(indexes[0] ?? -1);
      else await ctx.decodeBatch();
      if (chunk.length === 1) lease.done(performance.now() - t0);
    }
    return result;
  };
  const decodeAndSample = handOffs !== "two" && typeof ctx.decodeBatchAndSampleToken === "function" ? ctx.decodeBatchAndSampleToken.bind(ctx) : null;
  const generateTokens = handOffs === "loop" && decodeAndSample && typeof ctx.generateTokens === "function" ? ctx.generateTokens.bind(ctx) : null;
  return {
    decode: (seq, pos, tokens, wantLogits) =>
      chunks(seq, pos, tokens, wantLogits, async (logitIndex) => {
        await ctx.decodeBatch();
        return wantLogits ? logitIndex : -1;
      }),
    release: () => undefined,
    enter: () => undefined,
    leave: () => undefined,
    // The slot owns its context and awaits its own decodes: nothing else runs on it meanwhile.
    exclusive: (work) => work(),
    // decode + sample in one hand-off for the last chunk; earlier chunks of a long prompt decode as usual.
    ...(decodeAndSample ? { decodeAndSample: (seq: number, pos: number, tokens: readonly number[], sampler: unknown) => chunks(seq, pos, tokens, true, (i) => decodeAndSample(i, sampler)) } : {}),
    ...(generateTokens
      ? {
          // One thread choice for the whole loop; the governor is told the mean time of its decodes.
          async loop(seq: number, pos: number, token: number, maxDecodes: number, sampler: unknown, stop: Int32Array, onToken: (token: number) => void) {
            const lease = threads.acquire(1);
            setThreads(lease.threads);
            ctx.initBatch(1);
            const t0 = performance.now();
            const fed = await generateTokens(token, pos, seq, maxDecodes, sampler, stop, onToken);
            if (fed.length > 0) lease.done((performance.now() - t0) / fed.length);
            return fed;
          },
        }
      : {}),
  };
}

/** How a direct decoder uses the addon's extra methods (createDirectDecoder). */
export type HandOffs = "loop" | "one" | "two";

interface Pending {
  seq: number;
  pos: number;
  tokens: readonly number[];
  /** Tokens already decoded (a long prompt spans several batches). */
  done: number;
  wantLogits: boolean;
  resolve(index: number): void;
  reject(err: unknown): void;
}

/** All slots as sequences of one context, decoded together. */
export function createBatchScheduler(ctx: DecodeContext, batchSize: number, threads: DecodeThreads): SlotDecoder {
  const setThreads = threadSetter(ctx);
  const generating = new Set<number>();
  /** Sequences whose logits from the last decode are not sampled yet. */
  const holding = new Set<number>();
  const queue: Pending[] = [];
  /** Work that must not overlap a decode of the context (run between batches, first come first served). */
  const exclusives: Array<() => Promise<void>> = [];
  let running = false;
  let fallbackScheduled = false;

  const runExclusive = async (work: () => Promise<void>) => {
    running = true;
    try {
      await work();
    } finally {
      running = false;
      maybeDispatch(false);
    }
  };

  const dispatch = async () => {
    running = true;
    const items: Array<{ p: Pending; count: number; last: boolean }> = [];
    let room = batchSize;
    for (const p of queue) {
      if (room === 0) break;
      const count = Math.min(room, p.tokens.length - p.done);
      items.push({ p, count, last: p.done + count === p.tokens.length });
      room -= count;
    }
    const total = batchSize - room;
    const steps = items.every((i) => i.count === 1 && i.p.tokens.length === 1) ? items.length : 0;
    const lease = threads.acquire(steps);
    try {
      setThreads(lease.threads);
      ctx.initBatch(total);
      const indexes = items.map(({ p, count, last }) => {
        const chunk = p.tokens.slice(p.done, p.done + count);
        const logits = last && p.wantLogits ? Uint32Array.of(count - 1) : new Uint32Array(0);
        return ctx.addToBatch(p.seq, p.pos + p.done, Uint32Array.from(chunk), logits);
      });
      const t0 = performance.now();
      await ctx.decodeBatch();
      if (steps > 0) lease.done(performance.now() - t0);
      items.forEach(({ p, count, last }, k) => {
        p.done += count;
        if (!last) return;
        queue.splice(queue.indexOf(p), 1);
        if (p.wantLogits) holding.add(p.seq);
        p.resolve(p.wantLogits ? (indexes[k]?.[0] ?? -1) : -1);
      });
    } catch (err) {
      // A failed decode fails every request in it (each slot then clears its own sequence).
      for (const { p } of items) {
        const i = queue.indexOf(p);
        if (i !== -1) queue.splice(i, 1);
        p.reject(err);
      }
    } finally {
      running = false;
      maybeDispatch(false);
    }
  };

  /** Dispatch when nobody still needs the last logits and every generating sequence is queued (or a tick passed). */
  const maybeDispatch = (tickPassed: boolean) => {
    if (running) return;
    const next = exclusives.shift();
    if (next) {
      void runExclusive(next);
      return;
    }
    if (queue.length === 0 || holding.size > 0) return;
    const queued = new Set(queue.map((p) => p.seq));
    const all = [...generating].every((s) => queued.has(s));
    if (all || tickPassed) {
      void dispatch();
      return;
    }
    if (!fallbackScheduled) {
      fallbackScheduled = true;
      setImmediate(() => {
        fallbackScheduled = false;
        maybeDispatch(true);
      });
    }
  };

  return {
    decode(seq, pos, tokens, wantLogits) {
      holding.delete(seq);
      if (tokens.length === 0) return Promise.resolve(-1);
      return new Promise<number>((resolve, reject) => {
        queue.push({ seq, pos, tokens, done: 0, wantLogits, resolve, reject });
        maybeDispatch(false);
      });
    },
    release(seq) {
      if (holding.delete(seq)) maybeDispatch(false);
    },
    enter(seq) {
      generating.add(seq);
    },
    leave(seq) {
      generating.delete(seq);
      holding.delete(seq);
      maybeDispatch(false);
    },
    exclusive(work) {
      return new Promise((resolve, reject) => {
        exclusives.push(() => work().then(resolve, reject));
        maybeDispatch(false);
      });
    },
  };
}
