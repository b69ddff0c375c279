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
import { mulberry32 } from "../soak/synthetic.js";
import type { ChatBody, PlannedRequest } from "../scenarios/plan.js";
import type { CanarySpec, WorkloadMix } from "./profile-types.js";

export type Lane = "fresh" | "repeat";

export interface SoakRequest {
  lane: Lane;
  plan: PlannedRequest;
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
  const rand = mulberry32((mix.seed * 0x9e3779b1 + index) >>> 0);
  const stream = rand() < mix.streamShare;
  if (rand() < mix.repeatShare) {
    const k = Math.floor(rand() * mix.repeatPool);
    const size = mix.promptSizes[k % mix.promptSizes.length]!;
    const content = `Soak repeat ${k}: summarise this. ${FILLER.repeat(size)}`;
    return { lane: "repeat", plan: { index, key: `repeat-${k}`, body: body(content, mix.maxTokens, 0, stream, model) } };
  }
  const size = mix.promptSizes[Math.floor(rand() * mix.promptSizes.length)]!;
  const content = `Soak request ${index}: summarise this. ${FILLER.repeat(size)}`;
  return { lane: "fresh", plan: { index, key: `fresh-${index}`, body: body(content, mix.maxTokens, mix.temperature, stream, model) } };
}

export function canaryRequest(spec: CanarySpec, windowIndex: number, model: string | null): PlannedRequest & { body: CanaryBody } {
  return {
    index: windowIndex,
    key: "canary",
    body: { ...body(spec.prompt, spec.maxTokens, 0, false, model), stop: [`<|soak-canary-${windowIndex}|>`] },
  };
}
