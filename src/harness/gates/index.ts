export type { ArithOp, BoolExpr, CompareOp, Gate, LogicOp, NumExpr } from "./ast.js";
export { listIdentifiers } from "./ast.js";
export { GateSyntaxError } from "./errors.js";
export { MAX_GATE_LENGTH, MAX_NESTING, parseGate } from "./parser.js";
export { formatGate } from "./format.js";
export type { GateEvaluation, GateVerdict } from "./evaluate.js";
export { evaluateGate, formatValue } from "./evaluate.js";
