/**
 * References: each distinct request of a scenario run alone, one at a time, before the load, so
 * that every answer under load can be compared with what the same request gives on its own.
 * Doubles as the server's warm-up. A failed reference is retried (the fault switch may hit it).
 */
import type { RequestRecord } from "../load/types.js";
import type { Answer } from "../load/types.js";
import type { PlannedRequest } from "../scenarios/plan.js";
import { checkAnswer } from "./answer-check.js";

export const REFERENCE_ATTEMPTS = 4;

export interface ReferenceSet {
  answers: Map<string, Answer>;
  /** Keys no attempt could get a well-formed answer for, with the last reason. */
  missing: { key: string; reason: string }[];
  attempts: number;
}

export async function computeReferences(
  plans: readonly PlannedRequest[],
  send: (p: PlannedRequest) => Promise<RequestRecord>,
  stop: () => boolean = () => false,
): Promise<ReferenceSet> {
  const answers = new Map<string, Answer>();
  const missing: ReferenceSet["missing"] = [];
  let attempts = 0;
  for (const plan of plans) {
    let reason = "not attempted";
    for (let k = 0; k < REFERENCE_ATTEMPTS && !stop(); k++) {
      attempts++;
      const rec = await send(plan);
      if (rec.error !== null || rec.answer === null) {
        reason = rec.error ?? "no answer";
        continue;
      }
      const form = checkAnswer(rec.answer, null);
      if (form.ok) {
        answers.set(plan.key, rec.answer);
        break;
      }
      reason = form.reason;
    }
    if (!answers.has(plan.key)) missing.push({ key: plan.key, reason });
  }
  return { answers, missing, attempts };
}
