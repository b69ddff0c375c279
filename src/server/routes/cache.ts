/**
 * The system-prompt cache and the response cache, as resources:
 *   POST /cache/warm {prompt}  evaluates a system prompt once, keeps its state in a slot and saves it,
 *                              so requests starting with it reuse it on any slot, even after eviction
 *   GET /cache                 {tokens, systemPromptHash, lastUpdated, residentSlots, persisted, responses}
 *   DELETE /cache              clears both caches
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../../errors.js";
import type { ResponseCache } from "../../cache/response-cache.js";
import type { SlotPool } from "../../engine/slot-pool.js";
import type { Engine } from "../../engine/types.js";
import type { CacheHealth } from "./health.js";

export interface PromptCacheState extends CacheHealth {}

export interface CacheRouteDeps {
  engine: () => Engine | null;
  pool: () => SlotPool | null;
  responses: () => ResponseCache | null;
  state: PromptCacheState;
}

export function registerCacheRoutes(app: FastifyInstance, deps: CacheRouteDeps): void {
  const snapshot = () => {
    // Where the warmed system prompt really is: the slots holding it now, and whether its saved state
    // can be restored into any slot (null = this engine cannot tell).
    const warm = deps.engine()?.promptCacheState?.() ?? null;
    return {
      tokens: deps.state.tokens,
      systemPromptHash: deps.state.systemPromptHash,
      lastUpdated: deps.state.lastUpdated,
      residentSlots: warm ? warm.residentSlots : null,
      persisted: warm ? warm.persisted : null,
      responses: deps.responses()?.stats() ?? null,
    };
  };

  app.post("/cache/warm", async (request) => {
    const body = request.body as { prompt?: unknown } | null;
    const prompt = body && typeof body === "object" ? body.prompt : undefined;
    if (typeof prompt !== "string" || prompt.trim() === "") {
      throw new ApiError("invalid_request", "prompt is required: send {\"prompt\": \"<the system prompt to keep evaluated>\"}", { param: "prompt" });
    }
    const engine = deps.engine();
    const pool = deps.pool();
    if (!engine || !pool) throw new ApiError("model_not_ready", "the model is still loading; retry in a few seconds", { retryAfterSeconds: 2 });
    if (!engine.warmSystemPrompt) throw new ApiError("invalid_request", "this engine cannot keep a system prompt's state");
    const lease = await pool.acquire();
    try {
      deps.state.tokens = await engine.warmSystemPrompt(prompt, lease.slot);
    } catch (err) {
      if (err instanceof Error && err.name === "ContextOverflowError") {
        throw new ApiError("context_length_exceeded", `the system prompt does not fit in the context: ${err.message}`, { param: "prompt" });
      }
      throw err;
    } finally {
      lease.release();
    }
    deps.state.systemPromptHash = createHash("sha256").update(prompt).digest("hex");
    deps.state.lastUpdated = Date.now();
    return snapshot();
  });

  app.get("/cache", async () => snapshot());

  app.delete("/cache", async () => {
    await deps.responses()?.clear();
    await deps.engine()?.clearPromptState?.();
    deps.state.tokens = 0;
    deps.state.systemPromptHash = null;
    deps.state.lastUpdated = Date.now();
    return { cleared: true, ...snapshot() };
  });
}
