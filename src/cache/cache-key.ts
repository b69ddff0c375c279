/** Response-cache keys: SHA-256 over the model fingerprint, the normalised messages and every sampling parameter. */
import { createHash } from "node:crypto";
import type { ChatMessage, SamplingParams } from "../engine/types.js";

/** Only deterministic requests can be answered from a cache: greedy, or sampling with a fixed seed. */
export function isCacheable(params: SamplingParams): boolean {
  return params.temperature === 0 || params.seed !== undefined;
}

export function cacheKey(fingerprint: string, messages: readonly ChatMessage[], params: SamplingParams): string {
  // JSON of an explicit, ordered structure: unambiguous whatever the content holds.
  const canonical = JSON.stringify({
    v: 1,
    model: fingerprint,
    messages: messages.map((m) => [m.role, m.content]),
    params: [params.maxTokens, params.temperature, params.topP, params.seed ?? null, params.stop],
  });
  return createHash("sha256").update(canonical).digest("hex");
}
