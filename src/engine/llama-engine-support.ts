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

const REASON = /error|fail|invalid|unknown|not within|missing|corrupt|unsupported|cannot/i;
/** llama.cpp's closing line, which names no reason: used only when nothing better was logged. */
const GENERIC = /^\s*(?:[a-z_]+:\s*)*failed to load model\s*$/i;

/** The C function names and "error loading model:" layers llama.cpp puts in front of the reason. */
function stripPrefixes(line: string): string {
  let s = line.trim();
  for (let prev = ""; prev !== s; ) {
    prev = s;
    s = s.replace(/^[a-z_][a-z0-9_]*:\s+/i, "").replace(/^error loading model(?: [a-z ]+)?:\s+/i, "");
  }
  return s;
}

/**
 * The reason a model failed to load, from the engine's log lines: its thrown message only says "Failed to
 * load model"; the last specific line (e.g. "unknown model architecture: 'llamb'") is what the user needs.
 */
export function explainLoadFailure(lines: string[]): string {
  const candidates = lines.filter((l) => REASON.test(l));
  const specific = [...candidates].reverse().find((l) => !GENERIC.test(l));
  const reason = specific ?? candidates.at(-1);
  return `the model file could not be loaded: ${sanitizeMessage(reason === undefined ? "the engine gave no reason" : stripPrefixes(reason))}`;
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
