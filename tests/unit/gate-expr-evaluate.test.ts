import { describe, expect, test } from "vitest";
import { evaluateGate, formatGate, parseGate } from "../../src/harness/gates/index.js";

const run = (src: string, metrics: Record<string, number | null | undefined>) => evaluateGate(parseGate(src), metrics);

describe("gate-expr evaluation", () => {
  test("passes when the condition holds and reports the values used", () => {
    const r = run("p95 < 2 * p50", { p95: 500, p50: 300, p99: 900 });
    expect(r.verdict).toBe("pass");
    expect(r.values).toEqual({ p95: 500, p50: 300 });
    expect(r.detail).toBe("500 < 600 ✓");
  });

  test("fails when the condition does not hold, saying which comparison failed", () => {
    const r = run("p99 < 3 * p50 && errors == 0", { p99: 100, p50: 50, errors: 2 });
    expect(r.verdict).toBe("fail");
    expect(r.detail).toBe("100 < 150 ✓ && 2 == 0 ✗");
  });

  test("|| passes when either side holds", () => {
    expect(run("a > 1 || b > 1", { a: 0, b: 2 }).verdict).toBe("pass");
    expect(run("a > 1 || b > 1", { a: 0, b: 0 }).verdict).toBe("fail");
  });

  test("a missing, null or non-finite metric makes the verdict unavailable, never pass", () => {
    const missing = run("errors == 0 || p95 < 100", { errors: 0 });
    expect(missing.verdict).toBe("unavailable");
    expect(missing.values).toEqual({ errors: 0, p95: null });
    expect(missing.detail).toContain("missing metric: p95");
    expect(run("x < 1", { x: null }).verdict).toBe("unavailable");
    expect(run("x < 1", { x: undefined }).verdict).toBe("unavailable");
    expect(run("x < 1", { x: Number.NaN }).verdict).toBe("unavailable");
  });

  test("division by zero makes the verdict unavailable", () => {
    const r = run("p95 / p50 < 2", { p95: 10, p50: 0 });
    expect(r.verdict).toBe("unavailable");
    expect(r.detail).toContain("division by zero");
    expect(r.detail).toContain("p95 / p50");
  });

  test("arithmetic follows precedence and unary minus", () => {
    expect(run("a - b - c == -4", { a: 1, b: 2, c: 3 }).verdict).toBe("pass");
    expect(run("2 + 3 * 4 == 14", {}).verdict).toBe("pass");
    expect(run("(2 + 3) * 4 == 20", {}).verdict).toBe("pass");
    expect(run("-(1 - 3) >= 2", {}).verdict).toBe("pass");
  });

  test("every comparison operator compares as written", () => {
    const cases: [string, boolean][] = [
      ["1 < 2", true], ["2 < 2", false], ["2 <= 2", true], ["3 > 2", true],
      ["2 >= 3", false], ["2 == 2", true], ["2 != 2", false], ["0.9 >= 0.90", true],
    ];
    for (const [src, ok] of cases) expect(run(src, {}).verdict, src).toBe(ok ? "pass" : "fail");
  });
});

describe("gate-expr formatting", () => {
  test("prints with single spaces and only the parentheses needed", () => {
    expect(formatGate(parseGate("  p95<2*p50&&(errors==0)"))).toBe("p95 < 2 * p50 && errors == 0");
    expect(formatGate(parseGate("(a+b)*c < a-(b-c)"))).toBe("(a + b) * c < a - (b - c)");
    expect(formatGate(parseGate("(a<1||b<2)&&c<3"))).toBe("(a < 1 || b < 2) && c < 3");
    expect(formatGate(parseGate("-(-x) < 0.90"))).toBe("-(-x) < 0.9");
  });
});
