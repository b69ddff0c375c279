import type { BoolExpr, Gate, NumExpr } from "./ast.js";
import { PRECEDENCE } from "./ast.js";

function precOf(e: NumExpr | BoolExpr): number {
  switch (e.kind) {
    case "number":
    case "metric":
      return PRECEDENCE.atom;
    case "negate":
      return PRECEDENCE.negate;
    case "arith":
      return PRECEDENCE[e.op];
    case "compare":
      return PRECEDENCE.compare;
    case "logic":
      return PRECEDENCE[e.op];
  }
}

/**
 * Renders an expression tree with single spaces around binary operators and only the
 * parentheses the precedence rules require (operators associate to the left).
 * `leaf` may replace how comparisons are printed (used for evaluation details).
 */
export function renderBool(e: BoolExpr, leaf: (c: Extract<BoolExpr, { kind: "compare" }>) => string): string {
  if (e.kind === "compare") return leaf(e);
  const p = PRECEDENCE[e.op];
  const l = renderBool(e.left, leaf);
  const r = renderBool(e.right, leaf);
  return `${precOf(e.left) < p ? `(${l})` : l} ${e.op} ${precOf(e.right) <= p ? `(${r})` : r}`;
}

export function formatNum(e: NumExpr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "metric":
      return e.name;
    case "negate": {
      const inner = formatNum(e.operand);
      return e.operand.kind === "negate" || precOf(e.operand) < PRECEDENCE.negate ? `-(${inner})` : `-${inner}`;
    }
    case "arith": {
      const p = PRECEDENCE[e.op];
      const l = formatNum(e.left);
      const r = formatNum(e.right);
      return `${precOf(e.left) < p ? `(${l})` : l} ${e.op} ${precOf(e.right) <= p ? `(${r})` : r}`;
    }
  }
}

export function formatComparison(c: Extract<BoolExpr, { kind: "compare" }>): string {
  return `${formatNum(c.left)} ${c.op} ${formatNum(c.right)}`;
}

/** Canonical text of a gate: re-parsing it gives the same tree. */
export function formatGate(gate: Gate): string {
  return renderBool(gate.root, formatComparison);
}
