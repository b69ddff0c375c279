/**
 * Puts the response cache in front of an InferenceService: deterministic requests are answered from
 * the cache when it holds them, and identical requests in flight share one generation. An answer from
 * the cache is identical to a generated one (text, usage, finish_reason); partial or failed
 * generations are never stored.
 */
import { performance } from "node:perf_hooks";
import { cacheKey, isCacheable } from "../cache/cache-key.js";
import type { CachedResponse } from "../cache/record-codec.js";
import type { ResponseCache } from "../cache/response-cache.js";
import type { GenerateResult } from "../engine/types.js";
import type { InferenceOutcome, InferenceRequest, InferenceService } from "./inference.js";

export interface CachingInferenceOptions {
  inner: InferenceService;
  cache: ResponseCache;
  fingerprint: string;
  now?: () => number;
}

const toCached = (r: GenerateResult): CachedResponse => ({
  text: r.text,
  finishReason: r.finishReason,
  promptTokens: r.promptTokens,
  completionTokens: r.completionTokens,
});

export function createCachingInference(opts: CachingInferenceOptions): InferenceService {
  const now = opts.now ?? (() => performance.now());
  const { inner, cache } = opts;

  const fromCache = (req: InferenceRequest, value: CachedResponse, start: number, onChunk?: (c: { type: "text"; text: string }) => void): InferenceOutcome => {
    req.onCacheStatus?.(true);
    const ttft = now() - start;
    if (value.text) onChunk?.({ type: "text", text: value.text });
    return {
      result: { ...value, cachedTokens: 0, aborted: false },
      timings: { queueMs: 0, ttftMs: value.text ? ttft : null, totalMs: now() - start, tokensPerSecond: null },
      cacheHit: true,
    };
  };

  const run: InferenceService["run"] = async (req, onChunk) => {
    const start = now();
    if (!isCacheable(req.params)) {
      req.onCacheStatus?.(false);
      return inner.run(req, onChunk);
    }
    const key = cacheKey(opts.fingerprint, req.messages, req.params);
    const hit = await cache.lookup(key);
    if (hit) return fromCache(req, hit, start, onChunk);

    let leader: InferenceOutcome | undefined;
    let ledByUs = false;
    let shared;
    try {
      shared = await cache.singleFlight(key, async () => {
        ledByUs = true;
        req.onCacheStatus?.(false);
        leader = await inner.run(req, onChunk);
        const value = toCached(leader.result);
        // In memory at once, on disk in the background: the client never waits for the write.
        if (!leader.result.aborted) cache.store(key, value);
        return value;
      });
    } catch (err) {
      // Our own generation failed (queue full, timeout, engine error): that is the answer.
      if (ledByUs || req.signal.aborted) throw err;
      // The identical request we waited on failed (its client left, the engine failed): try ourselves.
      return run(req, onChunk);
    }
    if (!shared.shared && leader) return { ...leader, cacheHit: false };
    return fromCache(req, shared.value, start, onChunk);
  };

  return { run };
}
