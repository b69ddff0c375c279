/**
 * Creates the engine's slots and their contexts, in one of two layouts:
 * - "contexts": one context per slot, each decoding on its own (slots run in parallel on libuv workers);
 * - "batched": one context whose sequences are the slots, decoded together (one decode per step).
 * Both use the native path when node-llama-cpp's internals are there, else sequence.evaluate().
 */
import type { Llama, LlamaContext, LlamaModel } from "node-llama-cpp";
import { createBatchScheduler, createDirectDecoder, type DecodeThreads } from "./llama-engine-decoder.js";
import { createEvaluateSlot, createNativeSlot, nativeAccess, type EngineSlot } from "./llama-engine-slot.js";

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
}

export interface SlotSet {
  slots: EngineSlot[];
  contexts: LlamaContext[];
  path: "native" | "evaluate";
  layout: SlotLayout;
}

export async function createSlotSet(llama: Llama, model: LlamaModel, o: SlotSetOptions): Promise<SlotSet> {
  const contexts: LlamaContext[] = [];
  const slots: EngineSlot[] = [];
  const create = async (sequences: number) => {
    const c = await model.createContext({ contextSize: o.contextSize, sequences, threads: o.threads, flashAttention: false });
    contexts.push(c);
    return c;
  };
  try {
    // The evaluate path keeps one context per slot (the library batches sequences its own way).
    const layout: SlotLayout = o.path === "native" ? o.layout : "contexts";
    if (layout === "batched") {
      const context = await create(o.slots);
      const access = nativeAccess(llama, model, context);
      if (access) {
        const scheduler = createBatchScheduler(access.ctx, context.batchSize, o.threadsFor("batched"));
        for (let i = 0; i < o.slots; i++) slots.push(createNativeSlot(access, i, scheduler));
        return { slots, contexts, path: "native", layout };
      }
      await context.dispose();
      contexts.length = 0;
    }
    let path = o.path;
    for (let i = 0; i < o.slots; i++) {
      const context = await create(1);
      const access = path === "native" ? nativeAccess(llama, model, context) : null;
      if (!access) path = "evaluate";
      slots.push(access ? createNativeSlot(access, 0, createDirectDecoder(access.ctx, context.batchSize, o.threadsFor("contexts"))) : createEvaluateSlot(context));
    }
    return { slots, contexts, path, layout: "contexts" };
  } catch (err) {
    for (const c of contexts) await c.dispose().catch(() => undefined);
    throw err;
  }
}
