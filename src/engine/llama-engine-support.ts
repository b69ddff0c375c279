/** Small parts of the llama engine: file hashing, the native log collector, memoized detokenizing, timing. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { performance } from "node:perf_hooks";
import { LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { sanitizeMessage } from "../observability/sanitize.js";
import type { Detokenize } from "./text-stream.js";
import type { Engine, GenerateRequest } from "./types.js";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Keeps the library's log lines so a load failure can say why ("Failed to load model" alone says nothing). */
export function createLogCollector(onLog: ((level: "warn" | "error", message: string) => void) | undefined) {
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

export function explainLoadFailure(lines: string[]): string {
  const reason = [...lines].reverse().find((l) => /error|fail|invalid|unknown|not within|missing/i.test(l));
  return `the model file could not be loaded: ${sanitizeMessage(reason ?? "the engine gave no reason")}`;
}

/** detokenize() that answers a repeated call with the same arrays from memory (the decoder asks twice). */
export function memoDetokenize(model: Pick<LlamaModel, "detokenize">): Detokenize {
  let lastTokens: readonly number[] | null = null;
  let lastLength = -1;
  let lastContext: readonly number[] | null = null;
  let lastText = "";
  return (tokens, context) => {
    if (tokens === lastTokens && tokens.length === lastLength && context === lastContext) return lastText;
    lastText = model.detokenize(tokens as Token[], false, context as Token[]);
    lastTokens = tokens;
    lastLength = tokens.length;
    lastContext = context;
    return lastText;
  };
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
