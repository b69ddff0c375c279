/**
 * Creates the engine's slots and their contexts, in one of two layouts:
 * - "contexts": one context per slot, each decoding on its own (slots run in parallel on libuv workers);
 * - "batched": one context whose sequences are the slots, decoded together (one decode per step).
 * Both use the native path when node-llama-cpp's internals are there, else sequence.evaluate().
 */
import type { Llama, LlamaContext, LlamaContextOptions, LlamaModel } from "node-llama-cpp";
import { createBatchScheduler, createDirectDecoder, type DecodeThreads, type HandOffs } from "./llama-engine-decoder.js";
import { createEvaluateSlot, createNativeSlot, isNativeAccess, nativeAccess, type EngineSlot } from "./llama-engine-slot.js";
import type { EngineInfo } from "./types.js";

export type SlotLayout = "contexts" | "batched";

export interface SlotSetOptions {
  slots: number;
  contextSize: number;
  /** Threads each context starts with. */
  threads: number;
  layout: SlotLayout;
  path: "native" | "evaluate";
  /** Thread choice per decode: for "contexts" keyed by busy slots, for "batched" by sequences in the step. */
  threadsFor: (layout: SlotLayout) => DecodeThreads;
  /** How to use the addon's extra methods where it has them ("contexts" layout only; default "loop"; see createDirectDecoder). */
  handOffs?: HandOffs;
  /** Makes a context (default: model.createContext). */
  createContext?: (options: LlamaContextOptions) => Promise<LlamaContext>;
}

export interface SlotSet {
  slots: EngineSlot[];
  contexts: LlamaContext[];
  path: "native" | "evaluate";
  layout: SlotLayout;
  /** Why the asked native path is not used (for the start-up log); undefined when it is, or was not asked for. */
  note?: string;
}

const fallbackNote = (missing: readonly string[]) =>
  `the native generation path needs node-llama-cpp internals that this version lacks (${missing.join(", ")}): ` +
  `generating with the public sequence.evaluate() instead (same answers, a little slower per token)`;

/** Start-up warnings about the generation path: why the native path fell back, when it did. */
export function generationPathWarnings(info: EngineInfo): string[] {
  return info.generationPathNote ? [`${info.generationPathNote}; gauntlet is tested with node-llama-cpp 3.22.1`] : [];
}

export async function createSlotSet(llama: Llama, model: LlamaModel, o: SlotSetOptions): Promise<SlotSet> {
  const contexts: LlamaContext[] = [];
  const slots: EngineSlot[] = [];
  const make = o.createContext ?? ((options: LlamaContextOptions) => model.createContext(options));
  const create = async (sequences: number) => {
    const c = await make({ contextSize: o.contextSize, sequences, threads: o.threads, flashAttention: false });
    contexts.push(c);
    return c;
  };
  let note: string | undefined;
  try {
    // The evaluate path keeps one context per slot (the library batches sequences its own way).
    const layout: SlotLayout = o.path === "native" ? o.layout : "contexts";
    if (layout === "batched") {
      const context = await create(o.slots);
      const access = nativeAccess(llama, model, context);
      if (isNativeAccess(access)) {
        const scheduler = createBatchScheduler(access.ctx, context.batchSize, o.threadsFor("batched"));
        for (let i = 0; i < o.slots; i++) slots.push(createNativeSlot(access, i, scheduler));
        return { slots, contexts, path: "native", layout };
      }
      note = fallbackNote(access.missing);
      await context.dispose();
      contexts.length = 0;
    }
    const made: Array<{ context: LlamaContext; access: ReturnType<typeof nativeAccess> | null }> = [];
    for (let i = 0; i < o.slots; i++) {
      const context = await create(1);
      made.push({ context, access: o.path === "native" ? nativeAccess(llama, model, context) : null });
    }
    // Every slot on the same path: the native one only when every context has its internals.
    const lacking = made.map((m) => m.access).find((a) => a !== null && !isNativeAccess(a)) as { missing: string[] } | undefined;
    const path = o.path === "native" && !lacking ? "native" : "evaluate";
    if (lacking) note = fallbackNote(lacking.missing);
    for (const { context, access } of made) {
      slots.push(path === "native" && access && isNativeAccess(access) ? createNativeSlot(access, 0, createDirectDecoder(access.ctx, context.batchSize, o.threadsFor("contexts"), o.handOffs ?? "loop")) : createEvaluateSlot(context));
    }
    return { slots, contexts, path, layout: "contexts", ...(note ? { note } : {}) };
  } catch (err) {
    for (const c of contexts) await c.dispose().catch(() => undefined);
    throw err;
  }
}
