/**
 * The Engine on node-llama-cpp: the ONLY module in the project that imports it.
 *
 * One context per slot (each with a single sequence) so that slots run really in parallel; the
 * low-level `sequence.evaluate()` generator (the fastest path measured); the prompt prefix already in
 * a slot's KV cache is reused instead of evaluated again.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import {
  getLlama,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { ContextOverflowError, ModelLoadError } from "../errors.js";
import { sanitizeMessage } from "../observability/sanitize.js";
import { createStopMatcher, createTokenDecoder } from "./text-stream.js";
import type { ChatMessage, Engine, EngineInfo, GenerateChunk, GenerateRequest, GenerateResult } from "./types.js";

export interface LlamaEngineOptions {
  modelPath: string;
  modelId: string;
  slots: number;
  /** Threads per slot. */
  threads: number;
  contextSize: number;
  gpu: false | "auto" | "cuda" | "vulkan" | "metal";
  /** Called with warnings from the native library (already stripped of paths by the caller's logger). */
  onLog?: (level: "warn" | "error", message: string) => void;
}

interface Slot {
  context: LlamaContext;
  sequence: LlamaContextSequence;
  busy: boolean;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Keeps the library's log lines so a load failure can say why ("Failed to load model" alone says nothing). */
function createLogCollector(onLog: LlamaEngineOptions["onLog"]) {
  const lines: string[] = [];
  return {
    lines,
    logger(level: LlamaLogLevel, message: string) {
      const text = message.trim();
      if (!text) return;
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.warn) {
        lines.push(text);
        if (lines.length > 50) lines.shift();
        onLog?.(level === LlamaLogLevel.error ? "error" : "warn", text);
      }
    },
  };
}

function explainLoadFailure(lines: string[]): string {
  const reason = [...lines].reverse().find((l) => /error|fail|invalid|unknown|not within|missing/i.test(l));
  return `the model file could not be loaded: ${sanitizeMessage(reason ?? "the engine gave no reason")}`;
}

export async function createLlamaEngine(opts: LlamaEngineOptions): Promise<Engine> {
  const collector = createLogCollector(opts.onLog);
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
      maxThreads: opts.slots * opts.threads,
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
  const slots: Slot[] = [];
  try {
    for (let i = 0; i < opts.slots; i++) {
      const context = await model.createContext({
        contextSize: opts.contextSize,
        sequences: 1,
        threads: opts.threads,
        flashAttention: false,
      });
      slots.push({ context, sequence: context.getSequence(), busy: false });
    }
  } catch (err) {
    await model.dispose().catch(() => undefined);
    await llama.dispose().catch(() => undefined);
    throw new ModelLoadError(`could not create ${opts.slots} context(s) of ${opts.contextSize} tokens: ${sanitizeMessage((err as Error).message)}`);
  }

  const build = (llama as unknown as { _buildType?: string })._buildType === "localBuild" ? "local" : "prebuilt";
  const info: EngineInfo = {
    modelId: opts.modelId,
    fingerprint,
    fileSizeBytes: fileStat.size,
    contextSize: opts.contextSize,
    slots: opts.slots,
    threads: opts.threads,
    gpu: llama.gpu,
    build,
  };

  const tokenize = (messages: ChatMessage[]): Token[] => {
    const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
      if (m.role === "system") return { type: "system", text: m.content };
      if (m.role === "user") return { type: "user", text: m.content };
      return { type: "model", response: [m.content] };
    });
    history.push({ type: "model", response: [] });
    const { contextText } = chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(model.tokenizer);
  };

  const commonPrefix = (slot: Slot, tokens: Token[]): number =>
    Math.min(slot.sequence.compareContextTokens(tokens).firstDifferentIndex, slot.sequence.nextTokenIndex);

  const detokenize = (tokens: readonly number[], last: readonly number[]) =>
    model.detokenize(tokens as Token[], false, last as Token[]);

  let closed = false;

  return {
    info: () => info,

    async countPromptTokens(messages) {
      return tokenize(messages).length;
    },

    chooseSlot(free, messages) {
      if (free.length <= 1) return free[0] ?? 0;
      const tokens = tokenize(messages);
      let best = free[0]!;
      let bestLen = -1;
      for (const i of free) {
        const s = slots[i];
        if (!s) continue;
        const len = commonPrefix(s, tokens);
        if (len > bestLen) {
          best = i;
          bestLen = len;
        }
      }
      return best;
    },

    async generate(req: GenerateRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<GenerateResult> {
      if (closed) throw new Error("engine is closed");
      const slot = slots[req.slot ?? 0];
      if (!slot) throw new Error(`no slot ${String(req.slot)}`);
      if (slot.busy) throw new Error(`slot ${String(req.slot)} is already generating`);
      slot.busy = true;
      try {
        return await generateOn(slot, req, onChunk);
      } finally {
        slot.busy = false;
      }
    },

    async warmSystemPrompt(systemPrompt, slotIndex) {
      const slot = slots[slotIndex];
      if (!slot) throw new Error(`no slot ${slotIndex}`);
      if (slot.busy) throw new Error(`slot ${slotIndex} is already generating`);
      // The system prompt's tokens are whatever two conversations with it have in common: this holds
      // for any chat template, without knowing how it closes the system turn.
      const a = tokenize([{ role: "system", content: systemPrompt }, { role: "user", content: "a" }]);
      const b = tokenize([{ role: "system", content: systemPrompt }, { role: "user", content: "b" }]);
      let n = 0;
      while (n < a.length && n < b.length && a[n] === b[n]) n++;
      const prefix = a.slice(0, n);
      if (prefix.length >= slot.sequence.contextSize) throw new ContextOverflowError(prefix.length, slot.sequence.contextSize);
      slot.busy = true;
      try {
        const reuse = commonPrefix(slot, prefix);
        if (reuse < slot.sequence.nextTokenIndex) {
          await slot.sequence.eraseContextTokenRanges([{ start: reuse, end: slot.sequence.nextTokenIndex }]);
        }
        if (reuse < prefix.length) await slot.sequence.evaluateWithoutGeneratingNewTokens(prefix.slice(reuse));
        return prefix.length;
      } finally {
        slot.busy = false;
      }
    },

    async clearPromptState() {
      for (const s of slots) if (!s.busy) await s.sequence.clearHistory();
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const s of slots) await s.context.dispose().catch(() => undefined);
      await model.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
    },
  };

  async function generateOn(slot: Slot, req: GenerateRequest, onChunk?: (chunk: GenerateChunk) => void): Promise<GenerateResult> {
    const tokens = tokenize(req.messages);
    const contextSize = slot.sequence.contextSize;
    if (tokens.length >= contextSize) throw new ContextOverflowError(tokens.length, contextSize);

    // Prefix reuse: keep what the KV cache already holds, evaluate only the rest (at least one token).
    let reuse = commonPrefix(slot, tokens);
    if (reuse >= tokens.length) reuse = tokens.length - 1;
    if (reuse < slot.sequence.nextTokenIndex) {
      await slot.sequence.eraseContextTokenRanges([{ start: reuse, end: slot.sequence.nextTokenIndex }]);
    }
    const input = tokens.slice(reuse);

    // Never let the library shift the context silently: stop at the context's end ("length").
    const budget = Math.min(req.params.maxTokens, contextSize - tokens.length);
    const decoder = createTokenDecoder(detokenize);
    const stopper = createStopMatcher(req.params.stop);
    let text = "";
    let completionTokens = 0;
    let finishReason: GenerateResult["finishReason"] = "length";
    let aborted = false;
    let stopMatched = false;
    const emit = (piece: string) => {
      if (!piece) return;
      text += piece;
      onChunk?.({ type: "text", text: piece });
    };

    try {
      if (budget > 0) {
        const iterator = slot.sequence.evaluate(input, {
          temperature: req.params.temperature,
          topP: req.params.temperature > 0 ? req.params.topP : undefined,
          topK: req.params.temperature > 0 ? 40 : undefined,
          seed: req.params.seed ?? (req.params.temperature > 0 ? Math.floor(Math.random() * 2 ** 31) : 0),
        });
        for await (const token of iterator) {
          if (req.signal?.aborted) {
            aborted = true;
            break;
          }
          if (model.isEogToken(token)) {
            finishReason = "stop";
            break;
          }
          completionTokens++;
          const r = stopper.push(decoder.push(token));
          emit(r.text);
          if (r.stopped) {
            stopMatched = true;
            finishReason = "stop";
            break;
          }
          if (completionTokens >= budget) break;
        }
      }
      if (!aborted && !stopMatched) {
        // Text held back (an incomplete character, a possible stop-string start) belongs to the answer.
        const tail = stopper.push(decoder.flush());
        emit(tail.text);
        if (tail.stopped) finishReason = "stop";
        else emit(stopper.flush());
      }
    } catch (err) {
      // A failed evaluation leaves the KV cache in an unknown state: start clean next time.
      await slot.sequence.clearHistory().catch(() => undefined);
      throw err;
    }
    if (aborted) await slot.sequence.clearHistory().catch(() => undefined);
    return { text, finishReason, promptTokens: tokens.length, completionTokens, cachedTokens: reuse, aborted };
  }
}

/** Measures one generation straight on the engine (used by the overhead benchmark). */
export async function timeGeneration(engine: Engine, req: GenerateRequest): Promise<{ ms: number; ttftMs: number | null }> {
  const t0 = performance.now();
  let ttft: number | null = null;
  await engine.generate(req, () => {
    if (ttft === null) ttft = performance.now() - t0;
  });
  return { ms: performance.now() - t0, ttftMs: ttft };
}
