import type { BoolExpr, Gate, NumExpr } from "./ast.js";
import { listIdentifiers } from "./ast.js";
import { formatNum, renderBool } from "./format.js";

export type GateVerdict = "pass" | "fail" | "unavailable";

export interface GateEvaluation {
  verdict: GateVerdict;
  /** Every metric the gate names, with the value used (null when missing). */
  values: Record<string, number | null>;
  /** Human-readable account, e.g. `812 < 600 ✗ && 0 == 0 ✓` or `missing metric: ttft.p95`. */
  detail: string;
}

class Unavailable extends Error {}

/** Numbers in details: at most 6 significant digits, no exponent for everyday magnitudes. */
export function formatValue(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}

/**
 * Evaluates a gate against measured metrics. A metric that is missing, null or not finite,
 * a division by zero, or a non-finite intermediate result gives "unavailable", never "pass".
 * `==` and `!=` compare exactly.
 */
export function evaluateGate(gate: Gate, metrics: Readonly<Record<string, number | null | undefined>>): GateEvaluation {
  const values: Record<string, number | null> = {};
  const missing: string[] = [];
  for (const name of listIdentifiers(gate)) {
    const v = Object.prototype.hasOwnProperty.call(metrics, name) ? metrics[name] : undefined;
    if (typeof v === "number" && Number.isFinite(v)) values[name] = v;
    else { values[name] = null; missing.push(name); }
  }
  if (missing.length > 0) {
    return { verdict: "unavailable", values, detail: `missing metric${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}` };
  }
  const num = (e: NumExpr): number => {
    let r: number;
    switch (e.kind) {
      case "number": r = e.value; break;
      case "metric": r = values[e.name] ?? Number.NaN; break;
      case "negate": r = -num(e.operand); break;
      case "arith": {
        const a = num(e.left);
        const b = num(e.right);
        if (e.op === "/" && b === 0) throw new Unavailable(`division by zero in \`${formatNum(e)}\``);
        r = e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : a / b;
      }
    }
    if (!Number.isFinite(r)) throw new Unavailable(`\`${formatNum(e)}\` is not a finite number`);
    return r;
  };
  const results = new Map<BoolExpr, { l: number; r: number; ok: boolean }>();
  const bool = (e: BoolExpr): boolean => {
    if (e.kind === "logic") {
      const a = bool(e.left);
      const b = bool(e.right); // no short-circuit: every comparison is shown in the detail
      return e.op === "&&" ? a && b : a || b;
    }
    const l = num(e.left);
    const r = num(e.right);
    const ok = compare(e.op, l, r);
    results.set(e, { l, r, ok });
    return ok;
  };
  let passed: boolean;
  try {
    passed = bool(gate.root);
  } catch (err) {
    if (err instanceof Unavailable) return { verdict: "unavailable", values, detail: err.message };
    throw err;
  }
  const detail = renderBool(gate.root, (c) => {
    const res = results.get(c);
    return res === undefined ? "?" : `${formatValue(res.l)} ${c.op} ${formatValue(res.r)} ${res.ok ? "✓" : "✗"}`;
  });
  return { verdict: passed ? "pass" : "fail", values, detail };
}

function compare(op: Extract<BoolExpr, { kind: "compare" }>["op"], l: number, r: number): boolean {
  switch (op) {
    case "<": return l < r;
    case "<=": return l <= r;
    case ">": return l > r;
    case ">=": return l >= r;
    case "==": return l === r;
    case "!=": return l !== r;
  }
}
