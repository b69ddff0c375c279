/**
 * The Engine on node-llama-cpp: the ONLY module (with its llama-engine-* parts) that imports it.
 *
 * One context per slot (each with a single sequence) so that slots run really in parallel; the
 * native slot path (llama-engine-slot.ts) drives the addon directly; the prompt is tokenized once
 * per request with repeated texts cached (llama-engine-tokens.ts); the prompt prefix already in a
 * slot's KV cache is reused, and requests go to the slot holding their session or longest prefix;
 * a warmed system prompt's state is saved and restored into any slot (llama-engine-warm.ts).
 */
import { stat } from "node:fs/promises";
import { getLlama, LlamaLogLevel, resolveChatWrapper, type ChatWrapper, type Llama, type LlamaModel } from "node-llama-cpp";
import { ContextOverflowError, ModelLoadError } from "../errors.js";
import type { HandOffs } from "./llama-engine-decoder.js";
import { sanitizeMessage } from "../observability/sanitize.js";
import type { EngineSlot, SlotSampling } from "./llama-engine-slot.js";
import { createSlotSet, type SlotLayout, type SlotSet } from "./llama-engine-slots.js";
import { createLogCollector, explainLoadFailure, memoDetokenize, sha256File } from "./llama-engine-support.js";
import { createPromptTokenizer } from "./llama-engine-tokens.js";
import { createWarmStore } from "./llama-engine-warm.js";
import { createStopMatcher, createTokenDecoder, dropIncompleteTail } from "./text-stream.js";
import { createThreadChooser } from "./thread-plan-governor.js";

export { memoDetokenize, sha256File, timeGeneration } from "./llama-engine-support.js";
import type { Engine, EngineInfo, EngineStats, GenerateChunk, GenerateRequest, GenerateResult } from "./types.js";
import { linkSignals } from "../resilience/linked-signal.js";

export interface LlamaEngineOptions {
  modelPath: string;
  modelId: string;
  slots: number;
  /** Threads per slot when every slot is busy. */
  threads: number;
  /**
   * Threads a slot may use while other slots are idle (default: threads). The native path gives a
   * generation max(threads, floor(maxThreads / busy slots)) threads, decided before each decode.
   */
  maxThreads?: number;
  contextSize: number;
  gpu: false | "auto" | "cuda" | "vulkan" | "metal";
  /**
   * "contexts" (default): one context per slot, decoding in parallel; "batched": the slots are
   * sequences of one context and one decode serves every generating slot (continuous batching).
   */
  layout?: SlotLayout;
  /** Measure and fall back to 1 thread per decode when more threads are slower (default true). */
  threadGovernor?: boolean;
  /** "native" (default when available) drives the addon directly; "evaluate" uses sequence.evaluate(). */
  generationPath?: "native" | "evaluate";
  /**
   * How the native path uses the methods a `gauntlet engine build` addon adds (src/engine/addon-patch.ts), where it
   * has them: "loop" (default) runs the token loop in one native call (generateTokens: no hand-off per token);
   * "one" decodes and samples each token in one call (decodeBatchAndSampleToken); "two" keeps the two stock calls.
   * The last two are there to compare the loops (bench:engine, tests).
   */
  handOffs?: HandOffs;
  /** Called with warnings from the native library (already stripped of paths by the caller's logger). */
  onLog?: (level: "warn" | "error", message: string) => void;
}

interface Slot {
  impl: EngineSlot;
  busy: boolean;
  lastUsed: number;
}

/** Sessions remembered for routing (X-Session-Id -> slot), oldest forgotten first. */
const MAX_SESSIONS = 4096;

export async function createLlamaEngine(opts: LlamaEngineOptions): Promise<Engine> {
  const collector = createLogCollector(opts.onLog);
  const maxThreads = Math.max(opts.threads, opts.maxThreads ?? opts.threads);
  /** Slots inside run() right now (decides how many threads a decode gets). */
  let running = 0;
  const threadsFor = createThreadChooser({ threads: opts.threads, maxThreads, governed: opts.threadGovernor !== false, busySlots: () => running });
  const [fingerprint, fileStat] = await Promise.all([sha256File(opts.modelPath), stat(opts.modelPath)]);

  let llama: Llama;
  try {
    llama = await getLlama({
      gpu: opts.gpu,
      build: "never",
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.warn,
      logger: collector.logger,
      maxThreads: Math.max(opts.slots * opts.threads, maxThreads),
    });
  } catch (err) {
    throw new ModelLoadError(`the inference engine could not start: ${sanitizeMessage((err as Error).message)}`);
  }

  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: opts.modelPath, gpuLayers: opts.gpu === false ? 0 : "auto" });
  } catch {
    await llama.dispose().catch(() => undefined);
    throw new ModelLoadError(explainLoadFailure(collector.lines));
  }

  const chatWrapper: ChatWrapper = resolveChatWrapper(model);
  let set: SlotSet;
  try {
    set = await createSlotSet(llama, model, {
      slots: opts.slots,
      contextSize: opts.contextSize,
      threads: opts.threads,
      layout: opts.layout ?? "contexts",
      path: opts.generationPath ?? "native",
      handOffs: opts.handOffs,
      threadsFor,
    });
  } catch (err) {
    await model.dispose().catch(() => undefined);
    await llama.dispose().catch(() => undefined);
    throw new ModelLoadError(`could not create ${opts.slots} context(s) of ${opts.contextSize} tokens: ${sanitizeMessage((err as Error).message)}`);
  }
  const slots: Slot[] = set.slots.map((impl) => ({ impl, busy: false, lastUsed: 0 }));
  const path = set.path;
  // What the slots' decoders really use (the slowest slot, should they differ).
  const handOffsPerToken = Math.max(...set.slots.map((s) => s.handOffsPerToken ?? 2)) as 0 | 1 | 2;

  const build = (llama as unknown as { _buildType?: string })._buildType === "localBuild" ? "local" : "prebuilt";
  const info: EngineInfo = {
    modelId: opts.modelId,
    fingerprint,
    fileSizeBytes: fileStat.size,
    contextSize: opts.contextSize,
    slots: opts.slots,
    threads: opts.threads,
    ...(path === "native" && maxThreads > opts.threads ? { maxThreads } : {}),
    gpu: llama.gpu,
    build,
    generationPath: path,
    ...(path === "native" ? { handOffsPerToken } : {}),
    layout: set.layout,
    ...(set.note ? { generationPathNote: set.note } : {}),
  };
  if (set.note) opts.onLog?.("warn", set.note);

  const prompts = createPromptTokenizer(model, chatWrapper);
  const sessions = new Map<string, number>();
  const counters = { generations: 0, promptTokensEvaluated: 0, promptTokensReused: 0, completionTokens: 0, sessionRoutes: 0, prefixRoutes: 0, warmRestores: 0 };
  const warm = createWarmStore(opts.onLog);
  let useClock = 0;
  let closed = false;
  /** Aborted by close(): generations stop within a token, before their contexts go away. */
  const closing = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  const rememberSession = (sessionId: string | undefined, slot: number) => {
    if (!sessionId) return;
    sessions.delete(sessionId);
    sessions.set(sessionId, slot);
    if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
  };

  const holdSlot = (index: number | undefined): Slot => {
    if (closed) throw new Error("engine is closed");
    const slot = slots[index ?? 0];
    if (!slot) throw new Error(`no slot ${String(index)}`);
    if (slot.busy) throw new Error(`slot ${String(index)} is already generating`);
    slot.busy = true;
    slot.lastUsed = ++useClock;
    return slot;
  };

  async function generateOn(slot: Slot, req: GenerateRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<GenerateResult> {
    const tokens = prompts.tokenize(req.messages);
    if (tokens.length >= opts.contextSize) throw new ContextOverflowError(tokens.length, opts.contextSize);
    // Never let the context shift: generation stops at the context's end ("length").
    const budget = Math.min(req.params.maxTokens, opts.contextSize - tokens.length);
    const { temperature } = req.params;
    const sampling: SlotSampling = {
      temperature,
      topK: 40,
      topP: temperature > 0 ? req.params.topP : 0.95,
      seed: req.params.seed ?? (temperature > 0 ? Math.floor(Math.random() * 2 ** 31) : 0),
    };
    const decoder = createTokenDecoder(memoDetokenize(model));
    const stopper = createStopMatcher(req.params.stop);
    let text = "";
    let completionTokens = 0;
    const generated: number[] = [];
    let finishReason: GenerateResult["finishReason"] = "length";
    let stopMatched = false;
    const emit = (piece: string) => {
      if (!piece) return;
      text += piece;
      onChunk?.({ type: "text", text: piece });
    };

    if (await warm.restoreFor(slot.impl, tokens)) counters.warmRestores++;
    let reused = Math.min(slot.impl.commonPrefix(tokens), tokens.length - 1);
    let aborted = false;
    if (budget > 0) {
      running++;
      const run = await slot.impl.run(tokens, sampling, req.signal, {
        maxTokens: budget,
        step(token) {
          if (model.isEogToken(token)) {
            finishReason = "stop";
            return "end";
          }
          completionTokens++;
          generated.push(token);
          return completionTokens >= budget ? "last" : "more";
        },
        emit(token) {
          const r = stopper.push(decoder.push(token));
          emit(r.text);
          if (!r.stopped) return true;
          stopMatched = true;
          finishReason = "stop";
          return false;
        },
      }).finally(() => running--);
      reused = run.reused;
      aborted = run.aborted;
    }
    if (!aborted && !stopMatched) {
      // Text held back (an incomplete character, a possible stop-string start) belongs to the answer.
      const tail = stopper.push(dropIncompleteTail(decoder.flush()));
      emit(tail.text);
      if (tail.stopped) finishReason = "stop";
      else emit(stopper.flush());
    }
    counters.generations++;
    counters.promptTokensReused += reused;
    counters.promptTokensEvaluated += tokens.length - reused;
    counters.completionTokens += completionTokens;
    rememberSession(req.sessionId, req.slot ?? 0);
    return { text, finishReason, promptTokens: tokens.length, completionTokens, cachedTokens: reused, aborted, tokens: generated };
  }

  return {
    info: () => info,

    async countPromptTokens(messages) {
      return prompts.tokenize(messages).length;
    },

    // The request's tokens are kept for it (per messages array): generate() finds them ready.
    prepare(messages) {
      prompts.tokenize(messages);
    },

    chooseSlot(free, messages, sessionId) {
      if (free.length <= 1) return free[0] ?? 0;
      const owner = sessionId === undefined ? undefined : sessions.get(sessionId);
      if (owner !== undefined && free.includes(owner)) {
        counters.sessionRoutes++;
        return owner;
      }
      const tokens = prompts.tokenize(messages);
      // Longest cached prefix, when it covers at least half of the prompt (as llama.cpp's server
      // does): a slot is not given away for a few shared template tokens, which would throw out the
      // conversation it holds. Otherwise the least recently used slot (an empty one first); on a tie
      // the longer prefix.
      let best = -1;
      let bestLen = -1;
      let lru = -1;
      let lruUse = Infinity;
      let lruLen = -1;
      for (const i of free) {
        const s = slots[i];
        if (!s) continue;
        const len = s.impl.commonPrefix(tokens);
        if (len > 0 && len * 2 >= tokens.length && len > bestLen) {
          best = i;
          bestLen = len;
        }
        if (s.lastUsed < lruUse || (s.lastUsed === lruUse && len > lruLen)) {
          lru = i;
          lruUse = s.lastUsed;
          lruLen = len;
        }
      }
      if (best !== -1) {
        counters.prefixRoutes++;
        return best;
      }
      return lru === -1 ? free[0]! : lru;
    },

    async generate(req, onChunk) {
      const slot = holdSlot(req.slot);
      // Not AbortSignal.any: on Node 20 it leaks a reference on the engine-lifetime signal per request.
      const linked = req.signal ? linkSignals([req.signal, closing.signal]) : null;
      const signal = linked?.signal ?? closing.signal;
      try {
        return await track(generateOn(slot, { ...req, signal }, onChunk));
      } finally {
        slot.busy = false;
        linked?.dispose();
      }
    },

    async warmSystemPrompt(systemPrompt, slotIndex) {
      // The system prompt's tokens are whatever two conversations with it have in common: this holds
      // for any chat template, without knowing how it closes the system turn.
      const a = prompts.tokenize([{ role: "system", content: systemPrompt }, { role: "user", content: "a" }]);
      const b = prompts.tokenize([{ role: "system", content: systemPrompt }, { role: "user", content: "b" }]);
      let n = 0;
      while (n < a.length && n < b.length && a[n] === b[n]) n++;
      const prefix = a.slice(0, n);
      if (prefix.length >= opts.contextSize) throw new ContextOverflowError(prefix.length, opts.contextSize);
      const slot = holdSlot(slotIndex);
      try {
        await track(slot.impl.prime(prefix));
        // Saved once, so that any slot can get it back after other prompts evict it.
        await track(warm.keep(slot.impl, prefix));
        return prefix.length;
      } finally {
        slot.busy = false;
      }
    },

    promptCacheState: () => warm.state(slots.map((s) => s.impl)),

    async clearPromptState() {
      for (const s of slots) if (!s.busy) await s.impl.clear();
      sessions.clear();
      await warm.forget();
    },

    stats(): EngineStats {
      const tok = prompts.counters();
      return {
        ...counters,
        tokenizerCacheHits: tok.hits,
        tokenizerCacheMisses: tok.misses,
        busySlots: slots.filter((s) => s.busy).length,
        decodeMsByThreads: threadsFor.snapshot(set.layout),
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      // Disposing a context under a running decode crashes the process: stop and wait first.
      closing.abort();
      await Promise.allSettled([...inFlight]);
      for (const c of set.contexts) await c.dispose().catch(() => undefined);
      await model.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
      await warm.close();
    },
  };
}
