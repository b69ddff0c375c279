/** Abstract syntax of gate expressions such as `p99 < 3 * p50 && errors == 0`. */

export type ArithOp = "+" | "-" | "*" | "/";
export type CompareOp = "<" | "<=" | ">" | ">=" | "==" | "!=";
export type LogicOp = "&&" | "||";

/** An expression with a numeric value. */
export type NumExpr =
  | { kind: "number"; value: number }
  | { kind: "metric"; name: string }
  | { kind: "negate"; operand: NumExpr }
  | { kind: "arith"; op: ArithOp; left: NumExpr; right: NumExpr };

/** An expression with a true/false value; a gate's root is always one. */
export type BoolExpr =
  | { kind: "compare"; op: CompareOp; left: NumExpr; right: NumExpr }
  | { kind: "logic"; op: LogicOp; left: BoolExpr; right: BoolExpr };

export interface Gate {
  /** The text the gate was parsed from, verbatim. */
  source: string;
  root: BoolExpr;
}

export const COMPARE_OPS: readonly CompareOp[] = ["<", "<=", ">", ">=", "==", "!="];

/** Binding strength; higher binds tighter. */
export const PRECEDENCE = {
  "||": 1,
  "&&": 2,
  compare: 3,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  negate: 6,
  atom: 7,
} as const;

/** Metric names of a gate, each once, in order of first appearance. */
export function listIdentifiers(gate: Gate): string[] {
  const seen = new Set<string>();
  const visitNum = (e: NumExpr): void => {
    if (e.kind === "metric") seen.add(e.name);
    else if (e.kind === "negate") visitNum(e.operand);
    else if (e.kind === "arith") { visitNum(e.left); visitNum(e.right); }
  };
  const visitBool = (e: BoolExpr): void => {
    if (e.kind === "compare") { visitNum(e.left); visitNum(e.right); }
    else { visitBool(e.left); visitBool(e.right); }
  };
  visitBool(gate.root);
  return [...seen];
}
