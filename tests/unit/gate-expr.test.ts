import { describe, expect, test } from "vitest";
import { GateSyntaxError, listIdentifiers, parseGate } from "../../src/harness/gates/index.js";

function syntaxError(src: string): GateSyntaxError {
  try {
    parseGate(src);
  } catch (e) {
    if (e instanceof GateSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(src)} to be rejected`);
}

describe("gate-expr parser", () => {
  test("parses a comparison of a metric with a product", () => {
    expect(parseGate("p95 < 2 * p50").root).toEqual({
      kind: "compare",
      op: "<",
      left: { kind: "metric", name: "p95" },
      right: { kind: "arith", op: "*", left: { kind: "number", value: 2 }, right: { kind: "metric", name: "p50" } },
    });
  });

  test("keeps the source text", () => {
    expect(parseGate("  errors == 0 ").source).toBe("  errors == 0 ");
  });

  test("accepts every example form users write", () => {
    for (const src of [
      "p95 < 2 * p50",
      "memory_growth_pct < 20",
      "success_rate >= 0.90",
      "errors == 0",
      "ttft.p95 <= 500",
      "p99 < 3 * p50 && errors == 0",
      "a != b || (c > -1 && d / 2 >= e - f)",
      "latency.p99.9 < 1e3",
    ]) {
      expect(() => parseGate(src), src).not.toThrow();
    }
  });

  test("multiplication binds tighter than addition and both associate left", () => {
    const root = parseGate("a - b - c * d > 0").root;
    expect(root).toMatchObject({
      kind: "compare",
      left: {
        kind: "arith", op: "-",
        left: { kind: "arith", op: "-", left: { name: "a" }, right: { name: "b" } },
        right: { kind: "arith", op: "*", left: { name: "c" }, right: { name: "d" } },
      },
    });
  });

  test("&& binds tighter than ||", () => {
    const root = parseGate("a > 1 || b > 2 && c > 3").root;
    expect(root).toMatchObject({ kind: "logic", op: "||", right: { kind: "logic", op: "&&" } });
  });

  test("parentheses group conditions and arithmetic", () => {
    expect(parseGate("(a > 1 || b > 2) && c > 3").root).toMatchObject({ kind: "logic", op: "&&", left: { op: "||" } });
    expect(parseGate("(a + b) * 2 < 3").root).toMatchObject({ left: { op: "*", left: { op: "+" } } });
  });

  test("unary minus applies to numbers, metrics and groups", () => {
    expect(parseGate("-x < -(1 + 2)").root).toMatchObject({
      left: { kind: "negate", operand: { kind: "metric", name: "x" } },
      right: { kind: "negate", operand: { kind: "arith", op: "+" } },
    });
  });

  test("a bare metric is rejected with a hint and a caret after it", () => {
    const e = syntaxError("p95");
    expect(e.message).toContain("expected a comparison like `p95 < 2 * p50` after `p95`");
    expect(e.column).toBe(4);
    expect(e.message).toContain("\n  p95\n     ^");
  });

  test("a missing right-hand side points at the end", () => {
    const e = syntaxError("p95 <");
    expect(e.message).toMatch(/expected a number, a metric name or `\(` after `<`/);
    expect(e.column).toBe(6);
  });

  test("single = & | get a did-you-mean hint", () => {
    expect(syntaxError("errors = 0").message).toContain("use `==`");
    expect(syntaxError("a < 1 & b < 2").message).toContain("use `&&`");
    expect(syntaxError("a < 1 | b < 2").message).toContain("use `||`");
    expect(syntaxError("a < 1 and b < 2").message).toContain("use `&&`");
  });

  test("units after numbers are rejected with an explanation", () => {
    const e = syntaxError("p95 < 500ms");
    expect(e.message).toContain("units");
    expect(e.column).toBe(10);
  });

  test("unbalanced parentheses are reported where they are", () => {
    expect(syntaxError("(a < 1").message).toContain("expected `)` to close the `(` at column 1");
    const e = syntaxError("a < 1)");
    expect(e.message).toContain("unmatched `)`");
    expect(e.column).toBe(6);
  });

  test("chained comparisons are rejected", () => {
    expect(syntaxError("1 < a < 3").message).toContain("cannot be chained");
  });

  test("arithmetic on a condition and logic on a number are rejected", () => {
    expect(syntaxError("(a < b) + 1 > 0").message).toContain("arithmetic");
    expect(syntaxError("p95 && errors == 0").message).toContain("expected a comparison like `p95 < 2 * p50` after `p95`");
  });

  test("empty input, stray characters and two adjacent operands are rejected", () => {
    expect(syntaxError("   ").message).toContain("empty");
    expect(syntaxError("p95 < 5 # comment").column).toBe(9);
    expect(syntaxError("p95 p50 < 3").message).toContain("expected an operator or a comparison after `p95`");
    expect(syntaxError("ttft. < 3").message).toContain("after `.`");
  });

  test("absurd nesting is a syntax error, not a stack overflow", () => {
    const deep = "(".repeat(1000) + "a < 1" + ")".repeat(1000);
    expect(syntaxError(deep).message).toContain("nested");
    expect(syntaxError("-".repeat(1000) + "a < 1").message).toContain("nested");
    expect(syntaxError("a < 1 && ".repeat(1000) + "a < 1").message).toContain("longer than");
  });

  test("listIdentifiers returns each metric once in order of appearance", () => {
    expect(listIdentifiers(parseGate("p99 < 3 * p50 && errors == 0 || p50 > p99"))).toEqual(["p99", "p50", "errors"]);
  });
});
