/**
 * The server in the harness's own process, for the sweeps that need one fresh server per injected
 * fault (hundreds of them: a child process each would take minutes). It is the same buildServer()
 * `gauntlet serve` runs, with the cache file system injected (BuildServerOptions.cacheFs) and a
 * deterministic stand-in engine, so the expected answer of every request is known exactly.
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import type { CacheFs } from "../../cache/cache-fs.js";
import type { Engine, GenerateResult } from "../../engine/types.js";
import { buildServer } from "../../server/app.js";
import { ioErrorsCounted } from "./metrics-text.js";

const FINGERPRINT = createHash("sha256").update("gauntlet-chaos-stand-in-v1").digest("hex");

/** The stand-in's answer: a function of the messages and max_tokens only. */
export function standInText(content: string, maxTokens: number): string {
  return `stand-in ${createHash("sha256").update(JSON.stringify([content, maxTokens])).digest("hex").slice(0, 24)}`;
}

export function standInEngine(): Engine {
  return {
    info: () => ({ modelId: "chaos-stand-in", fingerprint: FINGERPRINT, fileSizeBytes: 0, contextSize: 4096, slots: 2, threads: 1, gpu: false, build: "stand-in" }),
    countPromptTokens: async (messages) => messages.length,
    async generate(req, onChunk): Promise<GenerateResult> {
      const text = standInText(req.messages.at(-1)?.content ?? "", req.params.maxTokens);
      for (let i = 0; i < text.length; i += 6) onChunk?.({ type: "text", text: text.slice(i, i + 6) });
      return { text, finishReason: "length", promptTokens: req.messages.length, completionTokens: req.params.maxTokens, cachedTokens: 0, aborted: false };
    },
    close: async () => undefined,
  };
}

export interface InProcessServer {
  app: FastifyInstance;
  /** Warning lines the server logged (JSON). */
  logs: string[];
  /** When each line of `logs` arrived (performance.now()). */
  logTimes: number[];
  /** The sum of the cache's I/O error counters in /metrics (see ioErrorsCounted), or null when there is none. */
  ioErrorsCounted(): Promise<number | null>;
  /** Asks `content` (max_tokens 8, temperature 0); status, text and x-cache-hit. */
  ask(content: string): Promise<{ status: number; text: string | null; hit: boolean | null }>;
  /** Waits (bounded) until the start-up scan of the cache is over or the disk is known unavailable. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startInProcess(cacheDir: string, fs: CacheFs, engine: Engine): Promise<InProcessServer> {
  const logs: string[] = [];
  const logTimes: number[] = [];
  const app = await buildServer({
    settings: {
      apiKey: null,
      slots: 2,
      queueMax: 16,
      timeoutMs: 10_000,
      shutdownTimeoutMs: 1000,
      bodyLimitBytes: 1 << 20,
      maxTokensLimit: 4096,
      cacheDir,
      cache: { enabled: true, maxBytes: 1 << 20, quarantineMaxBytes: 1 << 20 },
      breaker: { enabled: true, failureThreshold: 5, successThreshold: 1, cooldownMs: 100 },
    },
    engine,
    ownsEngine: false,
    cacheFs: fs,
    logLevel: "warn",
    logStream: {
      write: (line: string) => {
        logs.push(line);
        logTimes.push(performance.now());
      },
    },
  });
  const ask = async (content: string) => {
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: { messages: [{ role: "user", content }], max_tokens: 8, temperature: 0 } });
    let text: string | null = null;
    try {
      text = (res.json() as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content ?? null;
    } catch {
      text = null;
    }
    const h = res.headers["x-cache-hit"];
    return { status: res.statusCode, text, hit: h === "true" ? true : h === "false" ? false : null };
  };
  const settled = async () => {
    for (let i = 0; i < 200; i++) {
      const r = (await app.inject({ method: "GET", url: "/cache" })).json() as { responses?: { scanComplete?: boolean; diskAvailable?: boolean } | null };
      if (r.responses?.scanComplete) return;
      if (r.responses?.diskAvailable === false && logs.some((l) => l.includes("disk operation failed"))) return;
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  const ioErrors = async () => ioErrorsCounted((await app.inject({ method: "GET", url: "/metrics" })).body);
  return { app, logs, logTimes, ioErrorsCounted: ioErrors, ask, settled, close: () => app.close() };
}
