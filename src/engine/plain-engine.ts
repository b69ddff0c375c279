/**
 * The plain engine: the same Engine on node-llama-cpp's high-level APIs (LlamaCompletion on the
 * prompt's tokens, or LlamaChatSession on the messages), with a fresh KV cache for every request.
 * It is the reference the fast path is tested against and one of the paths the engine benchmark
 * compares; it is not meant to serve traffic (no prefix reuse, no slot routing).
 */
import {
  getLlama,
  LlamaChatSession,
  LlamaCompletion,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type LlamaContext,
  type Token,
} from "node-llama-cpp";
import { ContextOverflowError } from "../errors.js";
import type { ChatMessage, Engine, EngineInfo, GenerateResult } from "./types.js";

export interface PlainEngineOptions {
  modelPath: string;
  modelId?: string;
  slots?: number;
  threads?: number;
  contextSize: number;
  /** "completion": LlamaCompletion on Token[]; "chat-session": LlamaChatSession.prompt(). */
  mode: "completion" | "chat-session";
}

const toHistory = (messages: readonly ChatMessage[]): ChatHistoryItem[] =>
  messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });

export async function createPlainEngine(opts: PlainEngineOptions): Promise<Engine> {
  const slots = opts.slots ?? 1;
  const threads = opts.threads ?? 1;
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: slots * threads });
  const model = await llama.loadModel({ modelPath: opts.modelPath, gpuLayers: 0 });
  const chatWrapper = resolveChatWrapper(model);
  const contexts: LlamaContext[] = [];
  for (let i = 0; i < slots; i++) {
    contexts.push(await model.createContext({ contextSize: opts.contextSize, sequences: 1, threads, flashAttention: false }));
  }
  const sequences = contexts.map((c) => c.getSequence());

  const tokenize = (messages: readonly ChatMessage[]): Token[] => {
    const history = toHistory(messages);
    history.push({ type: "model", response: [] });
    return chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
  };

  const info: EngineInfo = {
    modelId: opts.modelId ?? "plain",
    fingerprint: "",
    fileSizeBytes: 0,
    contextSize: opts.contextSize,
    slots,
    threads,
    gpu: false,
    build: (llama as unknown as { _buildType?: string })._buildType === "localBuild" ? "local" : "prebuilt",
    generationPath: opts.mode,
  };

  return {
    info: () => info,
    async countPromptTokens(messages) {
      return tokenize(messages).length;
    },
    async generate(req, onChunk) {
      const sequence = sequences[req.slot ?? 0];
      if (!sequence) throw new Error(`no slot ${String(req.slot)}`);
      const tokens = tokenize(req.messages);
      if (tokens.length >= opts.contextSize) throw new ContextOverflowError(tokens.length, opts.contextSize);
      const budget = Math.min(req.params.maxTokens, opts.contextSize - tokens.length);
      await sequence.clearHistory();
      const { temperature } = req.params;
      let completionTokens = 0;
      const generated: number[] = [];
      const common = {
        maxTokens: budget,
        temperature,
        topK: 40,
        topP: temperature > 0 ? req.params.topP : 0.95,
        seed: req.params.seed ?? (temperature > 0 ? Math.floor(Math.random() * 2 ** 31) : 0),
        repeatPenalty: false as const,
        customStopTriggers: req.params.stop.length > 0 ? req.params.stop : undefined,
        signal: req.signal,
        stopOnAbortSignal: true,
        onTextChunk: (text: string) => {
          if (text) onChunk?.({ type: "text", text });
        },
      };
      let text: string;
      let stopReason: string;
      if (opts.mode === "completion") {
        const completion = new LlamaCompletion({ contextSequence: sequence });
        // LlamaCompletion prepends BOS itself when the model wants one; the chat prompt already has it.
        const bos = model.tokens.bos;
        const input = model.tokens.shouldPrependBosToken && bos !== null && tokens[0] === bos ? tokens.slice(1) : tokens;
        const r = await completion.generateCompletionWithMeta(input, {
          ...common,
          disableContextShift: true,
          onToken: (ts: Token[]) => {
            completionTokens += ts.length;
            generated.push(...ts);
          },
        });
        text = r.response;
        stopReason = r.metadata.stopReason;
      } else {
        const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false });
        const last = req.messages.at(-1);
        if (!last || last.role !== "user") throw new Error("the chat-session path needs the last message to be the user's");
        session.setChatHistory(toHistory(req.messages.slice(0, -1)));
        const r = await session.promptWithMeta(last.content, {
          ...common,
          onToken: (ts: Token[]) => {
            completionTokens += ts.length;
            generated.push(...ts);
          },
        });
        text = r.responseText;
        stopReason = r.stopReason;
        session.dispose({ disposeSequence: false });
      }
      const aborted = stopReason === "abort";
      const finishReason: GenerateResult["finishReason"] = stopReason === "maxTokens" ? "length" : "stop";
      return { text, finishReason, promptTokens: tokens.length, completionTokens, cachedTokens: 0, aborted, tokens: generated };
    },
    async close() {
      for (const c of contexts) await c.dispose().catch(() => undefined);
      await model.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
    },
  };
}
