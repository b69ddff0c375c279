/**
 * Correctness under load: at temperature 0 an answer must equal the reference, the same request
 * run alone beforehand; a wrong answer is a failure even with status 200. Every answer must also
 * be well formed (a finish reason and the server's token count).
 */
import type { Answer } from "../load/types.js";

export type AnswerVerdict = { ok: true } | { ok: false; reason: string };

const excerpt = (s: string) => JSON.stringify(s.length > 24 ? `${s.slice(0, 24)}...` : s);

export function describeDifference(got: string, want: string): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return `text differs from the reference at character ${i + 1}: ${excerpt(got.slice(i))} vs ${excerpt(want.slice(i))}`;
}

/** `reference` null: no reference (check "none"), only the answer's form is checked. */
export function checkAnswer(answer: Answer, reference: Answer | null): AnswerVerdict {
  if (answer.finishReason === null) return { ok: false, reason: "no finish_reason in the answer" };
  if (answer.completionTokens === null) return { ok: false, reason: "no usage.completion_tokens in the answer" };
  if (reference === null) return { ok: true };
  if (answer.text !== reference.text) return { ok: false, reason: describeDifference(answer.text, reference.text) };
  if (answer.finishReason !== reference.finishReason) return { ok: false, reason: `finish_reason ${answer.finishReason}, reference ${reference.finishReason}` };
  if (answer.completionTokens !== reference.completionTokens) {
    return { ok: false, reason: `completion_tokens ${answer.completionTokens}, reference ${reference.completionTokens}` };
  }
  return { ok: true };
}
