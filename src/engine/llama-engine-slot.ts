/**
 * One generation slot = one llama.cpp context with one sequence, and the list of tokens its KV
 * cache holds. Two ways to drive it, with the same behaviour:
 *
 * - "native": straight on node-llama-cpp's addon context (decodeBatch + sampleToken), the same
 *   calls LlamaContextSequence.evaluate() ends in, without its batching dispatcher, locks, token
 *   meter and predictor layers. The slot knows exactly which tokens the KV cache holds (an aborted
 *   generation keeps its state for prefix reuse) and never shifts the context. Uses internals of
 *   node-llama-cpp 3.22.x (pinned in package.json); nativeAccess() returns null when they are missing.
 * - "evaluate": the public LlamaContextSequence.evaluate() generator, the fallback and reference.
 */
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

/** Sampling as the slot applies it: the same defaults LlamaContextSequence.evaluate() uses. */
export interface SlotSampling {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export interface SlotRun {
  /** Prompt tokens kept from the KV cache instead of evaluated. */
  reused: number;
  /** The run ended because the signal aborted. */
  aborted: boolean;
}

export interface EngineSlot {
  readonly path: "native" | "evaluate";
  /** Prompt tokens the KV cache already holds for this prompt. */
  commonPrefix(tokens: readonly Token[]): number;
  /**
   * Makes the KV cache hold `prompt`, then samples tokens and hands each to `onToken` until it
   * returns false or the signal aborts. At least one prompt token is always evaluated.
   */
  run(prompt: readonly Token[], sampling: SlotSampling, signal: AbortSignal | undefined, onToken: (token: Token) => boolean): Promise<SlotRun>;
  /** Evaluates `tokens` into the KV cache without sampling (keeps a common prefix). */
  prime(tokens: readonly Token[]): Promise<void>;
  clear(): Promise<void>;
  dispose(): Promise<void>;
}

interface AddonContext {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, firstTokenPos: number, tokens: Uint32Array, logitIndexes: Uint32Array): ArrayLike<number>;
  decodeBatch(): Promise<void>;
  sampleToken(batchLogitIndex: number, sampler: AddonSampler): Promise<number>;
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
  disposeSequence(sequenceId: number): void;
  setThreads(threads: number): void;
}

interface AddonSampler {
  applyConfig(config: Record<string, unknown>): void;
  dispose(): void;
}

export interface NativeAccess {
  ctx: AddonContext;
  newSampler(): AddonSampler;
}

/** node-llama-cpp's addon objects behind a context, or null when this version does not have them. */
export function nativeAccess(llama: Llama, model: LlamaModel, context: LlamaContext): NativeAccess | null {
  const ctx = (context as unknown as { _ctx?: Partial<AddonContext> })._ctx;
  const Sampler = (llama as unknown as { _bindings?: { AddonSampler?: new (m: unknown) => AddonSampler } })._bindings?.AddonSampler;
  const addonModel = (model as unknown as { _model?: unknown })._model;
  const methods = ["initBatch", "addToBatch", "decodeBatch", "sampleToken", "removeTokenCellsFromSequence", "disposeSequence", "setThreads"] as const;
  if (!ctx || !Sampler || !addonModel || methods.some((m) => typeof ctx[m] !== "function")) return null;
  return { ctx: ctx as AddonContext, newSampler: () => new Sampler(addonModel) };
}

/** The sampler configuration evaluate() builds from { temperature, topK, topP, seed } (node-llama-cpp 3.22). */
export function samplerConfig(s: SlotSampling): Record<string, unknown> {
  return {
    temperature: s.temperature,
    minP: 0,
    topK: s.topK,
    topP: s.topP,
    seed: Math.max(0, Math.floor(s.seed)),
    repeatPenaltyMaxTokens: 64,
    dryRepeatPenaltyBase: 1.75,
    dryRepeatPenaltyAllowedLength: 2,
    dryRepeatPenaltyLastTokens: -1,
    dryRepeatPenaltySequenceBreakers: ["\n", ":", '"', "*"],
  };
}

function commonPrefixOf(held: readonly number[], tokens: readonly number[]): number {
  const n = Math.min(held.length, tokens.length);
  let i = 0;
  while (i < n && held[i] === tokens[i]) i++;
  return i;
}

const SEQ = 0;

export function createNativeSlot(access: NativeAccess, batchSize: number, context: LlamaContext): EngineSlot {
  const { ctx } = access;
  /** Exactly the tokens whose state the KV cache holds, by position. */
  let held: number[] = [];

  const clearNow = () => {
    ctx.disposeSequence(SEQ);
    held = [];
  };
  /** Keeps the first `keep` held tokens; returns how many are really kept (0 when trimming failed). */
  const trimTo = (keep: number): number => {
    if (keep >= held.length) return held.length;
    if (keep === 0 || !ctx.removeTokenCellsFromSequence(SEQ, keep, held.length)) {
      clearNow();
      return 0;
    }
    held.length = keep;
    return keep;
  };
  /** Decodes `tokens` at the end of the held ones, in batches; logits for the last one when asked. */
  const decode = async (tokens: readonly number[], wantLogits: boolean): Promise<number> => {
    let index = -1;
    for (let start = 0; start < tokens.length; start += batchSize) {
      const chunk = tokens.slice(start, start + batchSize);
      const last = start + batchSize >= tokens.length;
      ctx.initBatch(chunk.length);
      const logits = last && wantLogits ? Uint32Array.of(chunk.length - 1) : new Uint32Array(0);
      const indexes = ctx.addToBatch(SEQ, held.length, Uint32Array.from(chunk), logits);
      await ctx.decodeBatch();
      for (const t of chunk) held.push(t);
      if (last && wantLogits) index = indexes[0] ?? -1;
    }
    return index;
  };
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      // A failed decode leaves the KV cache in an unknown state: start clean next time.
      try {
        clearNow();
      } catch {
        held = [];
      }
      throw err;
    }
  };

  return {
    path: "native",
    commonPrefix: (tokens) => commonPrefixOf(held, tokens),
    run: (prompt, sampling, signal, onToken) =>
      guard(async () => {
        const reused = trimTo(Math.min(commonPrefixOf(held, prompt), prompt.length - 1));
        const sampler = access.newSampler();
        try {
          sampler.applyConfig(samplerConfig(sampling));
          let logitIndex = await decode(prompt.slice(reused), true);
          for (;;) {
            if (signal?.aborted) return { reused, aborted: true };
            const token = (await ctx.sampleToken(logitIndex, sampler)) as Token;
            if (signal?.aborted) return { reused, aborted: true };
            if (!onToken(token)) return { reused, aborted: false };
            logitIndex = await decode([token], true);
          }
        } finally {
          sampler.dispose();
        }
      }),
    prime: (tokens) =>
      guard(async () => {
        const keep = trimTo(commonPrefixOf(held, tokens));
        if (keep < tokens.length) await decode(tokens.slice(keep), false);
      }),
    clear: async () => clearNow(),
    dispose: () => context.dispose(),
  };
}

/** The same slot on the public API (LlamaContextSequence.evaluate), for comparison and as a fallback. */
export function createEvaluateSlot(context: LlamaContext): EngineSlot {
  const sequence: LlamaContextSequence = context.getSequence();
  const prefix = (tokens: readonly Token[]) =>
    Math.min(sequence.compareContextTokens(tokens as Token[]).firstDifferentIndex, sequence.nextTokenIndex);
  const trimTo = async (keep: number) => {
    if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
  };
  return {
    path: "evaluate",
    commonPrefix: prefix,
    async run(prompt, sampling, signal, onToken) {
      const reused = Math.min(prefix(prompt), prompt.length - 1);
      let aborted = false;
      try {
        await trimTo(reused);
        const iterator = sequence.evaluate(prompt.slice(reused), {
          temperature: sampling.temperature,
          topK: sampling.topK,
          topP: sampling.topP,
          seed: sampling.seed,
        });
        for await (const token of iterator) {
          if (signal?.aborted || !onToken(token)) {
            aborted = signal?.aborted ?? false;
            break;
          }
        }
      } catch (err) {
        await sequence.clearHistory().catch(() => undefined);
        throw err;
      }
      // After an abort, start clean (the documented safe state for reuse).
      if (aborted) await sequence.clearHistory().catch(() => undefined);
      return { reused, aborted };
    },
    async prime(tokens) {
      const keep = prefix(tokens);
      await trimTo(keep);
      if (keep < tokens.length) await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(keep) as Token[]);
    },
    clear: () => sequence.clearHistory(),
    dispose: () => context.dispose(),
  };
}
