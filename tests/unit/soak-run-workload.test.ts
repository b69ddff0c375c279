import { describe, expect, test } from "vitest";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import { canaryRequest, soakRequest } from "../../src/harness/soak-run/workload.js";

const mix = BUILTIN_PROFILE.workload;

describe("soak-run workload", () => {
  test("the same index always gives the same request (a resumed run continues the same sequence)", () => {
    for (const i of [0, 1, 17, 12345]) expect(soakRequest(mix, i, "m")).toEqual(soakRequest(mix, i, "m"));
  });

  test("mixes streamed and plain requests, several prompt sizes and a share of repeated temperature-0 requests", () => {
    const reqs = Array.from({ length: 2000 }, (_, i) => soakRequest(mix, i, null));
    const share = (f: (r: (typeof reqs)[number]) => boolean) => reqs.filter(f).length / reqs.length;
    expect(share((r) => r.plan.body.stream)).toBeGreaterThan(0.4);
    expect(share((r) => r.plan.body.stream)).toBeLessThan(0.6);
    expect(share((r) => r.lane === "repeat")).toBeGreaterThan(0.18);
    expect(share((r) => r.lane === "repeat")).toBeLessThan(0.32);
    const fresh = reqs.filter((r) => r.lane === "fresh");
    for (let c = 0; c < mix.promptSizes.length; c++) {
      const inClass = fresh.filter((r) => r.sizeClass === c);
      expect(inClass.length / fresh.length, `size class ${c}`).toBeGreaterThan(1 / mix.promptSizes.length - 0.05);
      expect(inClass.length / fresh.length, `size class ${c}`).toBeLessThan(1 / mix.promptSizes.length + 0.05);
      expect(inClass.filter((r) => r.plan.body.stream).length / inClass.length, `streamed share of class ${c}`).toBeGreaterThan(0.4);
      expect(inClass.filter((r) => r.plan.body.stream).length / inClass.length, `streamed share of class ${c}`).toBeLessThan(0.6);
    }
    const lengths = new Set(fresh.map((r) => r.plan.body.messages[0]!.content.length - String(r.plan.index).length));
    expect(lengths.size).toBe(mix.promptSizes.length);
    for (const r of reqs) {
      if (r.lane === "repeat") expect(r.plan.body.temperature).toBe(0);
      else expect(r.plan.body.temperature).toBeGreaterThan(0);
      if (r.plan.body.stream) expect(r.plan.body.stream_options).toEqual({ include_usage: true });
    }
    const repeatKeys = new Set(reqs.filter((r) => r.lane === "repeat").map((r) => JSON.stringify(r.plan.body.messages)));
    expect(repeatKeys.size).toBe(mix.repeatPool);
    const freshPrompts = new Set(reqs.filter((r) => r.lane === "fresh").map((r) => r.plan.body.messages[0]!.content));
    expect(freshPrompts.size).toBe(reqs.filter((r) => r.lane === "fresh").length);
  });

  test("sends the model id only when known", () => {
    expect(soakRequest(mix, 3, "tiny").plan.body.model).toBe("tiny");
    expect("model" in soakRequest(mix, 3, null).plan.body).toBe(false);
  });

  test("the canary has a fixed prompt at temperature 0; only a never-matching stop string changes, to keep it out of the response cache", () => {
    const a = canaryRequest(BUILTIN_PROFILE.canary, 1, null);
    const b = canaryRequest(BUILTIN_PROFILE.canary, 2, null);
    expect(a.body.messages).toEqual(b.body.messages);
    expect(a.body.temperature).toBe(0);
    expect(a.body.stream).toBe(false);
    expect(a.body.max_tokens).toBe(BUILTIN_PROFILE.canary.maxTokens);
    expect(a.body.stop).not.toEqual(b.body.stop);
    expect(a.key).toBe(b.key);
  });
});
