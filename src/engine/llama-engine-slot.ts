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
import type { DecodeContext, SlotDecoder } from "./llama-engine-decoder.js";

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

/**
 * What the engine does with each sampled token, in two steps so the native path can start decoding
 * the token before its text is assembled and streamed (that work then overlaps the decode).
 */
export interface TokenSink {
  /** How many tokens step() accepts in all: it says "last" at the maxTokens-th (or "end" before). */
  readonly maxTokens: number;
  /** Cheap check: "end" = stop without this token (end of generation), "last" = keep it and stop, "more" = keep it and go on. */
  step(token: Token): "end" | "last" | "more";
  /** The token's text (decoding, stop strings, streaming); false = a stop string ended generation. */
  emit(token: Token): boolean;
}

export interface EngineSlot {
  readonly path: "native" | "evaluate";
  /** Native path: libuv hand-offs per generated token (0 = the native token loop, 1 = decode-and-sample, 2 = stock calls). */
  readonly handOffsPerToken?: 0 | 1 | 2;
  /** Prompt tokens the KV cache already holds for this prompt. */
  commonPrefix(tokens: readonly Token[]): number;
  /**
   * Makes the KV cache hold `prompt`, then samples tokens and hands each to `sink` until it says
   * stop or the signal aborts. At least one prompt token is always evaluated.
   */
  run(prompt: readonly Token[], sampling: SlotSampling, signal: AbortSignal | undefined, sink: TokenSink): Promise<SlotRun>;
  /** Evaluates `tokens` into the KV cache without sampling (keeps a common prefix). */
  prime(tokens: readonly Token[]): Promise<void>;
  /** Saves the KV state of the tokens held now to `path` (for restoreState on any slot of the same model). */
  saveState(path: string): Promise<void>;
  /**
   * Replaces the slot's KV state with the one saved at `path`; true when the slot then holds exactly
   * `expected` (else it is left empty).
   */
  restoreState(path: string, expected: readonly Token[]): Promise<boolean>;
  clear(): Promise<void>;
}

interface AddonContext extends DecodeContext {
  sampleToken(batchLogitIndex: number, sampler: AddonSampler): Promise<number>;
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
  disposeSequence(sequenceId: number): void;
  getContextSize(): number;
  saveSequenceStateToFile?(filePath: string, sequenceId: number, tokens: Uint32Array): Promise<number>;
  loadSequenceStateFromFile?(filePath: string, sequenceId: number, maxContextSize: number): Promise<Uint32Array>;
}

interface AddonSampler {
  applyConfig(config: Record<string, unknown>): void;
  dispose(): void;
}

export interface NativeAccess {
  ctx: AddonContext;
  newSampler(): AddonSampler;
}

const ADDON_METHODS = ["initBatch", "addToBatch", "decodeBatch", "sampleToken", "removeTokenCellsFromSequence", "disposeSequence", "setThreads", "getContextSize"] as const;

/**
 * node-llama-cpp's addon objects behind a context, or the names of the private members that are
 * missing (another node-llama-cpp version): the caller then falls back to sequence.evaluate().
 */
export function nativeAccess(llama: Llama, model: LlamaModel, context: LlamaContext): NativeAccess | { missing: string[] } {
  const missing: string[] = [];
  let ctx: Partial<AddonContext> | undefined;
  let Sampler: (new (m: unknown) => AddonSampler) | undefined;
  let addonModel: unknown;
  try {
    ctx = (context as unknown as { _ctx?: Partial<AddonContext> })._ctx;
    Sampler = (llama as unknown as { _bindings?: { AddonSampler?: new (m: unknown) => AddonSampler } })._bindings?.AddonSampler;
    addonModel = (model as unknown as { _model?: unknown })._model;
  } catch {
    return { missing: ["(reading the internals threw)"] };
  }
  if (!ctx) missing.push("LlamaContext._ctx");
  else for (const m of ADDON_METHODS) if (typeof ctx[m] !== "function") missing.push(`LlamaContext._ctx.${m}()`);
  if (typeof Sampler !== "function") missing.push("Llama._bindings.AddonSampler");
  if (!addonModel) missing.push("LlamaModel._model");
  if (missing.length > 0) return { missing };
  return { ctx: ctx as AddonContext, newSampler: () => new Sampler!(addonModel) };
}

export function isNativeAccess(a: NativeAccess | { missing: string[] }): a is NativeAccess {
  return !("missing" in a);
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

const sameTokens = (a: readonly number[], b: readonly number[]) => a.length === b.length && commonPrefixOf(a, b) === a.length;

/**
 * A slot on the addon: sequence `seq` of a context, decoded by `decoder` (its own context, or a
 * context shared with the other slots and decoded in batches).
 */
export function createNativeSlot(access: NativeAccess, seq: number, decoder: SlotDecoder): EngineSlot {
  const { ctx } = access;
  /** Exactly the tokens whose state the KV cache holds, by position. */
  let held: number[] = [];

  const clearNow = () => {
    ctx.disposeSequence(seq);
    held = [];
  };
  /** Keeps the first `keep` held tokens; returns how many are really kept (0 when trimming failed). */
  const trimTo = (keep: number): number => {
    if (keep >= held.length) return held.length;
    if (keep === 0 || !ctx.removeTokenCellsFromSequence(seq, keep, held.length)) {
      clearNow();
      return 0;
    }
    held.length = keep;
    return keep;
  };
  /** Decodes `tokens` after the held ones; the logit index of the last one when asked, else -1. */
  const decode = async (tokens: readonly number[], wantLogits: boolean): Promise<number> => {
    const index = await decoder.decode(seq, held.length, tokens, wantLogits);
    for (const t of tokens) held.push(t);
    return index;
  };
  /** Decodes `tokens` and samples the next token in one native hand-off (decoder.decodeAndSample). */
  const decodeSample = async (tokens: readonly number[], sampler: AddonSampler): Promise<Token> => {
    const token = await decoder.decodeAndSample!(seq, held.length, tokens, sampler);
    for (const t of tokens) held.push(t);
    return token as Token;
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

  /**
   * The rest of a generation in one native call (decoder.loop), from `first`, a token the sink has already let
   * through ("more"): its text is assembled while the loop decodes it; each later token arrives from the loop
   * without stopping it. The sink's verdicts (end of generation, last token, stop string), an abort or a throwing
   * sink set the loop's stop flag; tokens the loop sampled after that are ignored. The KV cache then holds every
   * token the loop decoded (a few past a stop string at most), and `held` says so.
   */
  const loopFrom = async (first: Token, sampler: AddonSampler, reused: number, signal: AbortSignal | undefined, sink: TokenSink): Promise<SlotRun> => {
    const stop = new Int32Array(1);
    let outcome: SlotRun | null = null;
    let failure: { error: unknown } | null = null;
    const finish = (aborted: boolean) => {
      outcome ??= { reused, aborted };
      stop[0] = 1;
    };
    const guarded = (work: () => void) => {
      try {
        work();
      } catch (error) {
        failure = { error };
        stop[0] = 1;
      }
    };
    const emit = (token: Token, last: boolean) => {
      if (!sink.emit(token) || last) finish(false);
    };
    const onToken = (t: number) => {
      if (outcome !== null || failure !== null) return;
      guarded(() => {
        if (signal?.aborted) return finish(true);
        const step = sink.step(t as Token);
        if (step === "end") finish(false);
        else emit(t as Token, step === "last");
      });
    };
    const onAbort = () => {
      stop[0] = 1;
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const looping = decoder.loop!(seq, held.length, first, sink.maxTokens - 1, sampler, stop, onToken);
      guarded(() => emit(first, false));
      const fed = await looping;
      for (const t of fed) held.push(t);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    if (failure !== null) throw (failure as { error: unknown }).error;
    return outcome ?? { reused, aborted: signal?.aborted ?? false };
  };

  return {
    path: "native",
    handOffsPerToken: decoder.loop ? 0 : decoder.decodeAndSample ? 1 : 2,
    commonPrefix: (tokens) => commonPrefixOf(held, tokens),
    run: (prompt, sampling, signal, sink) =>
      guard(async () => {
        const reused = trimTo(Math.min(commonPrefixOf(held, prompt), prompt.length - 1));
        const sampler = access.newSampler();
        decoder.enter(seq);
        try {
          sampler.applyConfig(samplerConfig(sampling));
          // Decodes tokens and resolves the token sampled after them: in one native hand-off where the addon can
          // (decodeAndSample), else a decode and then a sample (two hand-offs).
          const next: (tokens: readonly number[]) => Promise<Token> = decoder.decodeAndSample
            ? (tokens) => decodeSample(tokens, sampler)
            : async (tokens) => {
                const logitIndex = await decode(tokens, true);
                try {
                  return (await ctx.sampleToken(logitIndex, sampler)) as Token;
                } finally {
                  decoder.release(seq);
                }
              };
          let token = await next(prompt.slice(reused));
          for (;;) {
            if (signal?.aborted) return { reused, aborted: true };
            const step = sink.step(token);
            if (step === "end") return { reused, aborted: false };
            if (step === "last") {
              sink.emit(token);
              return { reused, aborted: false };
            }
            // The native loop takes over from here, where the addon has one.
            if (decoder.loop) return await loopFrom(token, sampler, reused, signal, sink);
            // Decode the token on the worker while its text is assembled and streamed here. When a
            // stop string ends generation, that decode was for nothing (the cache just holds one more token).
            const decoding = next([token]);
            let more: boolean;
            try {
              more = sink.emit(token);
            } catch (err) {
              await decoding.catch(() => undefined);
              throw err;
            }
            token = await decoding;
            if (!more) return { reused, aborted: false };
          }
        } finally {
          decoder.leave(seq);
          sampler.dispose();
        }
      }),
    prime: (tokens) =>
      guard(async () => {
        const keep = trimTo(commonPrefixOf(held, tokens));
        if (keep < tokens.length) await decode(tokens.slice(keep), false);
      }),
    saveState: async (path) => {
      const save = ctx.saveSequenceStateToFile;
      if (typeof save !== "function") throw new Error("this node-llama-cpp build cannot save a sequence's state");
      const tokens = Uint32Array.from(held);
      await decoder.exclusive(() => save.call(ctx, path, seq, tokens));
    },
    restoreState: (path, expected) =>
      guard(async () => {
        const load = ctx.loadSequenceStateFromFile;
        if (typeof load !== "function") throw new Error("this node-llama-cpp build cannot load a sequence's state");
        clearNow();
        const loaded = await decoder.exclusive(() => load.call(ctx, path, seq, ctx.getContextSize()));
        held = Array.from(loaded);
        if (sameTokens(held, expected)) return true;
        clearNow();
        return false;
      }),
    clear: async () => clearNow(),
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
    async run(prompt, sampling, signal, sink) {
      const reused = Math.min(prefix(prompt), prompt.length - 1);
      let aborted = false;
      try {
        await trimTo(reused);
        const iterator = sequence.evaluate(prompt.slice(reused), {
          temperature: sampling.temperature,
          topK: sampling.topK,
          topP: sampling.topP,
          seed: sampling.seed,
          // The sink decides about end-of-generation tokens (finish_reason "stop"); without this the
          // generator ends silently on one and the answer would look cut by max_tokens.
          yieldEogToken: true,
        });
        for await (const token of iterator) {
          if (signal?.aborted) {
            aborted = true;
            break;
          }
          const next = sink.step(token);
          if (next === "end" || !sink.emit(token) || next === "last") break;
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
    async saveState(path) {
      await sequence.saveStateToFile(path);
    },
    async restoreState(path, expected) {
      try {
        await sequence.loadStateFromFile(path, { acceptRisk: true });
      } catch (err) {
        await sequence.clearHistory().catch(() => undefined);
        throw err;
      }
      if (sameTokens(sequence.contextTokens, expected)) return true;
      await sequence.clearHistory();
      return false;
    },
    clear: () => sequence.clearHistory(),
  };
}
