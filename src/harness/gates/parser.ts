import type { ArithOp, BoolExpr, CompareOp, Gate, LogicOp, NumExpr } from "./ast.js";
import { COMPARE_OPS } from "./ast.js";
import { GateSyntaxError } from "./errors.js";
import { tokenize } from "./tokenizer.js";
import type { Token } from "./tokenizer.js";

/** Longest accepted source and deepest nesting; beyond these a gate is surely a mistake. */
export const MAX_GATE_LENGTH = 4000;
export const MAX_NESTING = 64;

const EXAMPLE = "`p95 < 2 * p50`";

type Typed =
  | { type: "num"; node: NumExpr; start: number; end: number }
  | { type: "bool"; node: BoolExpr; start: number; end: number };

/** Parses a gate expression; throws GateSyntaxError saying what is wrong and where. */
export function parseGate(src: string): Gate {
  if (src.length > MAX_GATE_LENGTH) throw new GateSyntaxError(`gate is longer than ${MAX_GATE_LENGTH} characters`, src, MAX_GATE_LENGTH);
  if (src.trim() === "") throw new GateSyntaxError(`empty gate expression: expected something like ${EXAMPLE}`, src, src.length);
  return new Parser(src, tokenize(src)).parse();
}

class Parser {
  #pos = 0;
  #depth = 0;

  constructor(private readonly src: string, private readonly tokens: Token[]) {}

  parse(): Gate {
    const result = this.#or();
    const next = this.#peek();
    if (next.type === ")") this.#fail("unmatched `)`", next.start);
    if (next.type !== "eof") {
      if (result.type === "num") this.#fail(`expected an operator or a comparison after \`${this.#text(result)}\``, next.start);
      this.#fail(`expected \`&&\`, \`||\` or the end after \`${this.#text(result)}\``, next.start);
    }
    return { source: this.src, root: this.#bool(result, null) };
  }

  #or(): Typed { return this.#logic("||", () => this.#and()); }
  #and(): Typed { return this.#logic("&&", () => this.#comparison()); }

  #logic(op: LogicOp, operand: () => Typed): Typed {
    let left = operand();
    while (this.#isOp(op)) {
      const opTok = this.#next();
      const lnode = this.#bool(left, opTok);
      const right = operand();
      const node: BoolExpr = { kind: "logic", op, left: lnode, right: this.#bool(right, opTok) };
      left = { type: "bool", node, start: left.start, end: right.end };
    }
    return left;
  }

  #comparison(): Typed {
    const left = this.#additive();
    const tok = this.#peek();
    if (tok.type !== "op" || !COMPARE_OPS.includes(tok.text as CompareOp)) return left;
    this.#next();
    const lnode = this.#num(left, tok);
    const right = this.#additive();
    const node: BoolExpr = { kind: "compare", op: tok.text as CompareOp, left: lnode, right: this.#num(right, tok) };
    const after = this.#peek();
    if (after.type === "op" && COMPARE_OPS.includes(after.text as CompareOp)) {
      this.#fail("comparisons cannot be chained: write `a < b && b < c`", after.start);
    }
    return { type: "bool", node, start: left.start, end: right.end };
  }

  #additive(): Typed { return this.#arith(["+", "-"], () => this.#multiplicative()); }
  #multiplicative(): Typed { return this.#arith(["*", "/"], () => this.#unary()); }

  #arith(ops: ArithOp[], operand: () => Typed): Typed {
    let left = operand();
    while (this.#peek().type === "op" && ops.includes(this.#peek().text as ArithOp)) {
      const opTok = this.#next();
      const lnode = this.#num(left, opTok);
      const right = operand();
      const node: NumExpr = { kind: "arith", op: opTok.text as ArithOp, left: lnode, right: this.#num(right, opTok) };
      left = { type: "num", node, start: left.start, end: right.end };
    }
    return left;
  }

  #unary(): Typed {
    const tok = this.#peek();
    if (!this.#isOp("-")) return this.#primary();
    this.#next();
    this.#enter(tok);
    const operand = this.#unary();
    this.#depth--;
    return { type: "num", node: { kind: "negate", operand: this.#num(operand, tok) }, start: tok.start, end: operand.end };
  }

  #primary(): Typed {
    const tok = this.#next();
    if (tok.type === "number") return { type: "num", node: { kind: "number", value: tok.value ?? Number(tok.text) }, start: tok.start, end: tok.end };
    if (tok.type === "ident") return { type: "num", node: { kind: "metric", name: tok.text }, start: tok.start, end: tok.end };
    if (tok.type === "(") {
      this.#enter(tok);
      const inner = this.#or();
      this.#depth--;
      const close = this.#next();
      if (close.type !== ")") {
        this.#fail(`expected \`)\` to close the \`(\` at column ${tok.start + 1}`, close.start);
      }
      return { ...inner, start: tok.start, end: close.end };
    }
    const prev = this.tokens[this.tokens.indexOf(tok) - 1];
    const where = prev === undefined ? "at the start" : `after \`${prev.text}\``;
    const found = tok.type === "eof" ? "" : `, found \`${tok.text}\``;
    return this.#fail(`expected a number, a metric name or \`(\` ${where}${found}`, tok.start);
  }

  #enter(tok: Token): void {
    if (++this.#depth > MAX_NESTING) this.#fail(`expression is nested more than ${MAX_NESTING} levels deep`, tok.start);
  }

  #num(t: Typed, op: Token): NumExpr {
    if (t.type === "num") return t.node;
    return this.#fail(`cannot do arithmetic or compare with the condition \`${this.#text(t)}\` (around \`${op.text}\`)`, t.start);
  }

  #bool(t: Typed, op: Token | null): BoolExpr {
    if (t.type === "bool") return t.node;
    const next = op ?? this.#peek();
    return this.#fail(`expected a comparison like ${EXAMPLE} after \`${this.#text(t)}\``, op === null ? t.end : Math.min(next.start, t.end));
  }

  #text(t: { start: number; end: number }): string {
    const s = this.src.slice(t.start, t.end).replace(/\s+/g, " ").trim();
    return s.length > 40 ? `${s.slice(0, 37)}...` : s;
  }

  #isOp(text: string): boolean {
    const t = this.#peek();
    return t.type === "op" && t.text === text;
  }

  #peek(): Token {
    return this.tokens[this.#pos] ?? this.tokens[this.tokens.length - 1]!;
  }

  #next(): Token {
    const t = this.#peek();
    if (this.#pos < this.tokens.length - 1) this.#pos++;
    return t;
  }

  #fail(reason: string, index: number): never {
    throw new GateSyntaxError(reason, this.src, index);
  }
}
