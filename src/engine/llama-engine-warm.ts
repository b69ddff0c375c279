/**
 * The warmed system prompt (POST /cache/warm), kept for good: once evaluated into a slot, its KV
 * state is saved to a file in a private temporary folder, and restored into whichever slot a later
 * request starting with it runs on when that slot no longer holds it (another prompt evicted it).
 * Restoring reads the state back (a copy), far cheaper than evaluating the prompt again.
 *
 * One warmed prompt at a time: warming another replaces it. When saving fails (a node-llama-cpp
 * build without the state calls), the prompt lives only as long as a slot keeps it, and
 * persisted says so.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Token } from "node-llama-cpp";
import { sanitizeMessage } from "../observability/sanitize.js";
import type { EngineSlot } from "./llama-engine-slot.js";

export interface WarmState {
  tokens: number;
  residentSlots: number[];
  persisted: boolean;
}

export interface WarmStore {
  /** Saves the state `slot` holds now (it must hold exactly `tokens`) as the warmed prompt. */
  keep(slot: EngineSlot, tokens: readonly Token[]): Promise<void>;
  /** Puts the warmed state back into `slot` when `prompt` starts with it and the slot lost it; true when restored. */
  restoreFor(slot: EngineSlot, prompt: readonly Token[]): Promise<boolean>;
  state(slots: readonly EngineSlot[]): WarmState;
  forget(): Promise<void>;
  /** Forgets it and removes the temporary folder. */
  close(): Promise<void>;
}

export function createWarmStore(onLog?: (level: "warn" | "error", message: string) => void): WarmStore {
  let warm: { tokens: readonly Token[]; file: string | null } | null = null;
  let dir: string | null = null;
  let files = 0;

  const forget = async () => {
    const file = warm?.file;
    warm = null;
    if (file) await rm(file, { force: true }).catch(() => undefined);
  };
  const startsWith = (prompt: readonly Token[], prefix: readonly Token[]) => {
    if (prefix.length > prompt.length) return false;
    for (let i = 0; i < prefix.length; i++) if (prompt[i] !== prefix[i]) return false;
    return true;
  };

  return {
    async keep(slot, tokens) {
      let file: string | null = null;
      try {
        dir ??= await mkdtemp(join(tmpdir(), "gauntlet-warm-"));
        file = join(dir, `system-prompt-${++files}.state`);
        await slot.saveState(file);
      } catch (err) {
        if (file) await rm(file, { force: true }).catch(() => undefined);
        file = null;
        onLog?.("warn", `the warmed system prompt's state could not be saved (it stays only while a slot holds it): ${sanitizeMessage((err as Error).message)}`);
      }
      await forget();
      warm = { tokens, file };
    },

    async restoreFor(slot, prompt) {
      const w = warm;
      // The prompt must go on past the warmed part, which the slot must have lost.
      if (!w?.file || w.tokens.length >= prompt.length || slot.commonPrefix(prompt) >= w.tokens.length) return false;
      if (!startsWith(prompt, w.tokens)) return false;
      try {
        return await slot.restoreState(w.file, w.tokens);
      } catch (err) {
        // The prompt is then simply evaluated; the slot was left empty.
        onLog?.("warn", `could not restore the warmed system prompt's state: ${sanitizeMessage((err as Error).message)}`);
        return false;
      }
    },

    state(slots) {
      const w = warm;
      if (!w) return { tokens: 0, residentSlots: [], persisted: false };
      const residentSlots = slots.flatMap((s, i) => (s.commonPrefix(w.tokens) === w.tokens.length ? [i] : []));
      return { tokens: w.tokens.length, residentSlots, persisted: w.file !== null };
    },

    forget,

    async close() {
      warm = null;
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
