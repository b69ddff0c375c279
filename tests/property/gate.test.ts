import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BoolExpr, Gate, NumExpr } from "../../src/harness/gates/index.js";
import { evaluateGate, formatGate, GateSyntaxError, listIdentifiers, parseGate } from "../../src/harness/gates/index.js";

const segment = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/).filter((s) => !["and", "or", "not"].includes(s));
const metricName = fc
  .tuple(segment, fc.array(fc.stringMatching(/^[a-z0-9_]{1,4}$/), { maxLength: 2 }))
  .map(([head, rest]) => [head, ...rest].join("."));
const literal = fc.oneof(fc.nat(1000), fc.double({ min: 0, max: 1e300, noNaN: true })).map((v) => (v === 0 ? 0 : v));

const { num, bool } = fc.letrec<{ num: NumExpr; bool: BoolExpr }>((tie) => ({
  num: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    literal.map((value): NumExpr => ({ kind: "number", value })),
    metricName.map((name): NumExpr => ({ kind: "metric", name })),
    tie("num").map((operand): NumExpr => ({ kind: "negate", operand })),
    fc.record({ kind: fc.constant("arith" as const), op: fc.constantFrom("+", "-", "*", "/" as const), left: tie("num"), right: tie("num") }),
  ),
  bool: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ kind: fc.constant("compare" as const), op: fc.constantFrom("<", "<=", ">", ">=", "==", "!=" as const), left: tie("num"), right: tie("num") }),
    fc.record({ kind: fc.constant("logic" as const), op: fc.constantFrom("&&", "||" as const), left: tie("bool"), right: tie("bool") }),
  ),
}));

/** Any code points, including astral ones and lone surrogates (cheaper to build than unit: "binary"). */
const anyUnicode = fc.string({
  unit: fc.oneof(fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), fc.nat(0xffff).map((c) => String.fromCharCode(c))),
  maxLength: 40,
});

/** Strings made of gate-like fragments: far likelier to get deep into the parser than random text. */
const gateish = fc
  .array(fc.constantFrom("p95", "ttft.p99", "0.9", "2", "1e3", ".5", "(", ")", "<", "<=", ">=", "==", "!=", "=", "!", "&&", "||", "&", "|", "+", "-", "*", "/", " ", ".", "ms", "and", "#", "\n"), { maxLength: 25 })
  .map((parts) => parts.join(""));

describe("gate expressions", () => {
  test("any printed gate re-parses to the same tree", () => {
    fc.assert(
      fc.property(bool, (root) => {
        const gate: Gate = { source: "", root };
        const text = formatGate(gate);
        expect(parseGate(text).root).toEqual(root);
        expect(formatGate(parseGate(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  test("random strings never throw anything but GateSyntaxError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), anyUnicode, gateish), (src) => {
        try {
          const gate = parseGate(src);
          expect(typeof formatGate(gate)).toBe("string");
        } catch (e) {
          expect(e).toBeInstanceOf(GateSyntaxError);
          const err = e as GateSyntaxError;
          expect(err.column).toBeGreaterThanOrEqual(1);
          expect(err.column).toBeLessThanOrEqual(src.length + 1);
          expect(err.message).toContain("^");
        }
      }),
      { numRuns: 500 },
    );
  });

  test("evaluation never passes when a named metric is missing, and never throws", () => {
    fc.assert(
      fc.property(bool, fc.array(fc.option(fc.double(), { nil: null })), (root, vals) => {
        const gate: Gate = { source: "", root };
        const names = listIdentifiers(gate);
        const metrics: Record<string, number | null> = {};
        names.forEach((n, i) => { metrics[n] = vals[i % Math.max(1, vals.length)] ?? null; });
        const r = evaluateGate(gate, metrics);
        const anyMissing = names.some((n) => metrics[n] === null || !Number.isFinite(metrics[n]!));
        if (anyMissing) expect(r.verdict).toBe("unavailable");
        expect(Object.keys(r.values).sort()).toEqual([...names].sort());
        expect(r.detail.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
