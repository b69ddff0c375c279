/**
 * The chaos engine switch: an Engine decorator that misbehaves on purpose, for `gauntlet chaos`.
 * TEST-ONLY and off by default: src/server/main.ts turns it on when GAUNTLET_DEBUG_ENGINE_FAULT is set.
 *
 * Faults (the same spellings in the variable and in tags):
 *   throw        generate() throws before any text
 *   throw:N      N chunks of text are sent, then generate() throws (a failure mid-stream)
 *   hang         no text at all until the request's signal aborts (the request timeout), then an
 *                aborted generation, as a stalled engine that still honours cancellation
 *   stuck:MS     ignores its signal for MS ms (a native call that cannot be interrupted), then
 *                answers as aborted if the signal fired meanwhile
 *   slow:MS      the inner engine's exact text, each chunk MS ms after the previous one
 *   none:ANY     no fault (tags only: a distinct cache key for the same generation)
 * GAUNTLET_DEBUG_ENGINE_FAULT=<fault> applies it to every generation; =tagged applies, per request,
 * the fault named by a `[chaos:<fault>] ` prefix of the last user message. The tag is removed before
 * the inner engine sees the messages, so a tagged request generates what the untagged one would.
 */
import { bindAll } from "./retrying-engine.js";
import type { ChatMessage, Engine, GenerateChunk, GenerateRequest, GenerateResult } from "./types.js";

export type ChaosFault =
  | { kind: "throw"; afterChunks: number }
  | { kind: "hang" }
  | { kind: "stuck"; ms: number }
  | { kind: "slow"; msPerChunk: number }
  | { kind: "none" };

export type ChaosSetting = { mode: "all"; fault: ChaosFault } | { mode: "tagged" };

export class ChaosEngineError extends Error {
  override readonly name = "ChaosEngineError";
}

export const ENGINE_FAULT_VARIABLE = "GAUNTLET_DEBUG_ENGINE_FAULT";
const MAX_MS = 600_000;
const MAX_CHUNKS = 100_000;
const TAG = /^\[chaos:([^\]\s]{1,80})\] ?/;

function bounded(raw: string | undefined, max: number): number | null {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return null;
  const n = Number(raw);
  return n <= max ? n : null;
}

/** One fault spec (see the module comment); null when it is not one. */
export function parseFaultSpec(spec: string): ChaosFault | null {
  const [name, arg, ...rest] = spec.split(":");
  if (rest.length > 0 && name !== "none") return null;
  switch (name) {
    case "throw": {
      if (arg === undefined) return { kind: "throw", afterChunks: 0 };
      const n = bounded(arg, MAX_CHUNKS);
      return n === null ? null : { kind: "throw", afterChunks: n };
    }
    case "hang":
      return arg === undefined ? { kind: "hang" } : null;
    case "stuck": {
      const ms = bounded(arg, MAX_MS);
      return ms === null ? null : { kind: "stuck", ms };
    }
    case "slow": {
      const ms = bounded(arg, MAX_MS);
      return ms === null ? null : { kind: "slow", msPerChunk: ms };
    }
    case "none":
      return arg === undefined || arg === "" ? null : { kind: "none" };
    default:
      return null;
  }
}

export type EngineFaultResult = { ok: true; setting: ChaosSetting | null } | { ok: false; error: string };

/** Reads GAUNTLET_DEBUG_ENGINE_FAULT from the variables given (unset or empty: off). */
export function parseEngineFaultEnv(env: Readonly<Record<string, string | undefined>>): EngineFaultResult {
  const raw = env[ENGINE_FAULT_VARIABLE]?.trim() ?? "";
  if (raw === "") return { ok: true, setting: null };
  if (raw === "tagged") return { ok: true, setting: { mode: "tagged" } };
  const fault = raw.startsWith("none") ? null : parseFaultSpec(raw);
  if (fault === null) {
    return {
      ok: false,
      error: `${ENGINE_FAULT_VARIABLE} (test only) must be throw, throw:<chunks>, hang, stuck:<ms>, slow:<ms per chunk> or tagged, got ${JSON.stringify(raw.slice(0, 40))}`,
    };
  }
  return { ok: true, setting: { mode: "all", fault } };
}

/** The fault a `[chaos:<fault>] ` prefix of the last user message names, and the messages without it. */
export function splitChaosTag(messages: readonly ChatMessage[]): { fault: ChaosFault | null; messages: ChatMessage[] } {
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") {
      last = i;
      break;
    }
  }
  const target = messages[last];
  const match = target ? TAG.exec(target.content) : null;
  const fault = match?.[1] === undefined ? null : parseFaultSpec(match[1]);
  if (!target || !match || fault === null) return { fault: null, messages: [...messages] };
  const out = [...messages];
  out[last] = { role: target.role, content: target.content.slice(match[0].length) };
  return { fault, messages: out };
}

const abortedResult = (text = ""): GenerateResult => ({
  text,
  finishReason: "length",
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  aborted: true,
});

/** Resolves after `ms`, or early (false) when the signal aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Wraps an engine so that its generations fail, hang or crawl as `setting` says. */
export function withChaos(inner: Engine, setting: ChaosSetting): Engine {
  const hanging = new Set<() => void>();
  const strip = (messages: ChatMessage[]) => (setting.mode === "tagged" ? splitChaosTag(messages).messages : messages);

  /** Runs the inner engine to the end, keeping its chunks for a later replay. */
  const capture = async (req: GenerateRequest): Promise<{ result: GenerateResult; chunks: GenerateChunk[] }> => {
    const chunks: GenerateChunk[] = [];
    const result = await inner.generate(req, (c) => chunks.push(c));
    return { result, chunks };
  };

  const run = async (fault: ChaosFault, req: GenerateRequest, onChunk?: (c: GenerateChunk) => void): Promise<GenerateResult> => {
    switch (fault.kind) {
      case "none":
        return inner.generate(req, onChunk);
      case "throw": {
        if (fault.afterChunks > 0) {
          const { chunks } = await capture(req);
          for (const c of chunks.slice(0, fault.afterChunks)) onChunk?.(c);
        }
        throw new ChaosEngineError(`injected engine failure after ${fault.afterChunks} chunk(s) (debug chaos switch)`);
      }
      case "hang":
        await new Promise<void>((resolve) => {
          const release = () => {
            hanging.delete(release);
            req.signal?.removeEventListener("abort", release);
            resolve();
          };
          hanging.add(release);
          if (req.signal?.aborted) release();
          else req.signal?.addEventListener("abort", release, { once: true });
        });
        return abortedResult();
      case "stuck":
        await pause(fault.ms);
        return req.signal?.aborted ? abortedResult() : inner.generate(req, onChunk);
      case "slow": {
        const { result, chunks } = await capture(req);
        if (result.aborted) return result;
        let sent = "";
        for (const c of chunks) {
          if (!(await pause(fault.msPerChunk, req.signal))) return abortedResult(sent);
          sent += c.text;
          onChunk?.(c);
        }
        return result;
      }
    }
  };

  const wrapped: Engine = {
    ...bindAll(inner),
    countPromptTokens: (messages) => inner.countPromptTokens(strip(messages)),
    async generate(req, onChunk) {
      const split = setting.mode === "tagged" ? splitChaosTag(req.messages) : { fault: setting.fault, messages: req.messages };
      const clean: GenerateRequest = { ...req, messages: split.messages };
      return split.fault === null ? inner.generate(clean, onChunk) : run(split.fault, clean, onChunk);
    },
    async close() {
      for (const release of [...hanging]) release();
      await inner.close();
    },
  };
  if (inner.chooseSlot) {
    const choose = inner.chooseSlot.bind(inner);
    wrapped.chooseSlot = (free, messages, sessionId) => choose(free, strip(messages), sessionId);
  }
  return wrapped;
}
