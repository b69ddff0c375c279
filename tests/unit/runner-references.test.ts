import { describe, expect, test } from "vitest";
import type { RequestRecord } from "../../src/harness/load/types.js";
import { REFERENCE_ATTEMPTS, computeReferences } from "../../src/harness/runner/references.js";
import type { PlannedRequest } from "../../src/harness/scenarios/plan.js";

const plan = (key: string): PlannedRequest => ({ index: 0, key, body: { messages: [], max_tokens: 1, temperature: 0, stream: false } });
const ok = (text: string): Partial<RequestRecord> => ({ error: null, answer: { text, finishReason: "stop", completionTokens: 1, promptTokens: 1 } });
const fail: Partial<RequestRecord> = { error: "http-500", answer: null };

describe("computeReferences", () => {
  test("sends each distinct request once, one at a time, and keeps its answer", async () => {
    const order: string[] = [];
    let inFlight = 0;
    const refs = await computeReferences([plan("a"), plan("b")], async (p) => {
      inFlight++;
      expect(inFlight).toBe(1);
      order.push(p.key);
      await Promise.resolve();
      inFlight--;
      return { ...ok(`answer ${p.key}`) } as RequestRecord;
    });
    expect(order).toEqual(["a", "b"]);
    expect(refs.answers.get("b")?.text).toBe("answer b");
    expect(refs.missing).toEqual([]);
  });

  test("retries a failed reference and reports one that never succeeds", async () => {
    let calls = 0;
    const refs = await computeReferences([plan("a"), plan("b")], async (p) => {
      calls++;
      if (p.key === "a" && calls === 1) return fail as RequestRecord;
      if (p.key === "b") return fail as RequestRecord;
      return ok("fine") as RequestRecord;
    });
    expect(refs.answers.get("a")?.text).toBe("fine");
    expect(refs.missing).toEqual([{ key: "b", reason: "http-500" }]);
    expect(refs.attempts).toBe(2 + REFERENCE_ATTEMPTS);
  });
});
