/**
 * Chat prompt -> tokens, once per request, with the tokenization of repeated texts cached.
 *
 * llama.cpp's tokenizer costs about 0.1 ms per call plus about 1 us per character (measured on the
 * embedded model), and a chat template turns one prompt into several calls (template pieces and
 * each message). The pieces repeat (template markup, system prompts, earlier turns of a
 * conversation), so they come from an LRU of text -> tokens; the same request (one messages array)
 * is tokenized once, however many times slot choice and generation ask for it.
 */
import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token, Tokenizer } from "node-llama-cpp";
import type { ChatMessage } from "./types.js";

export interface PromptTokenizerOptions {
  /** Cached texts (default 512). */
  maxEntries?: number;
  /** Longer texts are not cached (default 16384 characters). */
  maxTextLength?: number;
}

export interface PromptTokenizer {
  /** The prompt's tokens; the same messages array gives the same (shared, read-only) array. */
  tokenize(messages: readonly ChatMessage[]): readonly Token[];
  /** Text tokenizations answered from the cache / computed. */
  counters(): { hits: number; misses: number };
}

interface Memo {
  signature: string;
  tokens: readonly Token[];
}

/** Cheap fingerprint to notice a messages array changed after it was first tokenized. */
function signatureOf(messages: readonly ChatMessage[]): string {
  let s = String(messages.length);
  for (const m of messages) s += `|${m.role}:${m.content.length}`;
  return s;
}

export function createPromptTokenizer(model: LlamaModel, chatWrapper: ChatWrapper, opts: PromptTokenizerOptions = {}): PromptTokenizer {
  const maxEntries = opts.maxEntries ?? 512;
  const maxTextLength = opts.maxTextLength ?? 16384;
  const lru = new Map<string, Token[]>();
  const perRequest = new WeakMap<readonly ChatMessage[], Memo>();
  let hits = 0;
  let misses = 0;

  const base = model.tokenizer;
  const cached = ((text: string, specialTokens?: boolean | "builtin", options?: "trimLeadingSpace") => {
    if (text.length > maxTextLength) return base(text, specialTokens as boolean, options);
    const key = `${String(specialTokens)}\u0000${String(options)}\u0000${text}`;
    const hit = lru.get(key);
    if (hit) {
      hits++;
      lru.delete(key);
      lru.set(key, hit);
      return hit;
    }
    misses++;
    const tokens = base(text, specialTokens as boolean, options);
    lru.set(key, tokens);
    if (lru.size > maxEntries) lru.delete(lru.keys().next().value as string);
    return tokens;
  }) as Tokenizer;
  // LlamaText.tokenize only calls the function, but keep the tokenizer's own members (detokenize).
  Object.assign(cached, base);

  const render = (messages: readonly ChatMessage[]): Token[] => {
    const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
      if (m.role === "system") return { type: "system", text: m.content };
      if (m.role === "user") return { type: "user", text: m.content };
      return { type: "model", response: [m.content] };
    });
    history.push({ type: "model", response: [] });
    const { contextText } = chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(cached);
  };

  return {
    tokenize(messages) {
      const signature = signatureOf(messages);
      const memo = perRequest.get(messages);
      if (memo && memo.signature === signature) return memo.tokens;
      const tokens = render(messages);
      perRequest.set(messages, { signature, tokens });
      return tokens;
    },
    counters: () => ({ hits, misses }),
  };
}
