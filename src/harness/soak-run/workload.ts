/**
 * The soak's requests. Request i is a pure function of (mix, i): a resumed run continues the same
 * sequence. Lanes:
 * - fresh: a prompt never sent before, at temperature > 0 (never cached): the latency windows judge these;
 * - repeat: one of `repeatPool` temperature-0 requests, answered from the server's response cache
 *   after their first time (the cache-hit share).
 * Streamed or not and the prompt size (repetitions of a filler sentence) are drawn per request.
 * The canary is a fixed prompt at temperature 0; its never-matching stop string changes per window
 * only so that the response cache cannot answer it: every canary is a real generation.
 */
import type { ChatBody, PlannedRequest } from "../scenarios/plan.js";
import type { CanarySpec, WorkloadMix } from "./profile-types.js";

export type Lane = "fresh" | "repeat";

export interface SoakRequest {
  lane: Lane;
  /** Index into mix.promptSizes: latency windows are judged per prompt-size class. */
  sizeClass: number;
  plan: PlannedRequest;
}

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The k-th uniform draw in [0, 1) for request `index`: a hash, so neighbouring indexes are independent. */
function draw(seed: number, index: number, k: number): number {
  return fmix32(fmix32(Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca6b)) ^ Math.imul(k + 1, 0xc2b2ae35)) / 4294967296;
}

export type CanaryBody = ChatBody & { stop: string[] };

const FILLER = "The quick brown fox jumps over the lazy dog near the quiet river bank. ";

function body(content: string, maxTokens: number, temperature: number, stream: boolean, model: string | null): ChatBody {
  return {
    ...(model === null ? {} : { model }),
    messages: [{ role: "user", content }],
    max_tokens: maxTokens,
    temperature,
    stream,
    ...(stream ? { stream_options: { include_usage: true as const } } : {}),
  };
}

export function soakRequest(mix: WorkloadMix, index: number, model: string | null): SoakRequest {
  const stream = draw(mix.seed, index, 0) < mix.streamShare;
  if (draw(mix.seed, index, 1) < mix.repeatShare) {
    const k = Math.floor(draw(mix.seed, index, 2) * mix.repeatPool);
    const sizeClass = k % mix.promptSizes.length;
    const content = `Soak repeat ${k}: summarise this. ${FILLER.repeat(mix.promptSizes[sizeClass]!)}`;
    return { lane: "repeat", sizeClass, plan: { index, key: `repeat-${k}`, body: body(content, mix.maxTokens, 0, stream, model) } };
  }
  const sizeClass = Math.floor(draw(mix.seed, index, 3) * mix.promptSizes.length);
  const content = `Soak request ${index}: summarise this. ${FILLER.repeat(mix.promptSizes[sizeClass]!)}`;
  return { lane: "fresh", sizeClass, plan: { index, key: `fresh-${index}`, body: body(content, mix.maxTokens, mix.temperature, stream, model) } };
}

export function canaryRequest(spec: CanarySpec, windowIndex: number, model: string | null): PlannedRequest & { body: CanaryBody } {
  return {
    index: windowIndex,
    key: "canary",
    body: { ...body(spec.prompt, spec.maxTokens, 0, false, model), stop: [`<|soak-canary-${windowIndex}|>`] },
  };
}
