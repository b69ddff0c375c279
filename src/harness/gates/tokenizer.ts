import { GateSyntaxError } from "./errors.js";

export type TokenType = "number" | "ident" | "op" | "(" | ")" | "eof";

export interface Token {
  type: TokenType;
  text: string;
  /** 0-based index of the first character. */
  start: number;
  /** Index just past the last character. */
  end: number;
  value?: number;
}

const OPS = ["<=", ">=", "==", "!=", "&&", "||", "<", ">", "+", "-", "*", "/"];
const WORD_HINTS: Record<string, string> = { and: "&&", or: "||", not: "!=" };

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string, at: number): never => { throw new GateSyntaxError(reason, src, at); };
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") { i++; continue; }
    const start = i;
    if (isDigit(c) || (c === "." && isDigit(src[i + 1]))) {
      while (isDigit(src[i])) i++;
      if (src[i] === ".") {
        i++;
        if (!isDigit(src[i])) fail("expected digits after the decimal point", i);
        while (isDigit(src[i])) i++;
      }
      if ((src[i] === "e" || src[i] === "E") && (isDigit(src[i + 1]) || (/[+-]/.test(src[i + 1] ?? "") && isDigit(src[i + 2])))) {
        i += 2;
        while (isDigit(src[i])) i++;
      }
      if (isIdentPart(src[i]) || src[i] === ".") {
        fail("numbers take no units or suffixes: write the bare number in the metric's own unit (e.g. `500`, not `500ms`)", i);
      }
      const text = src.slice(start, i);
      const value = Number(text);
      if (!Number.isFinite(value)) fail(`number \`${text}\` is too large`, start);
      tokens.push({ type: "number", text, start, end: i, value });
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (isIdentPart(src[i])) i++;
      while (src[i] === ".") {
        if (!isIdentPart(src[i + 1])) fail(`expected a name after \`.\` in \`${src.slice(start, i + 1)}\``, i + 1);
        i++;
        while (isIdentPart(src[i])) i++;
      }
      const text = src.slice(start, i);
      const hint = WORD_HINTS[text.toLowerCase()];
      if (hint !== undefined) fail(`\`${text}\` is not an operator here: use \`${hint}\``, start);
      tokens.push({ type: "ident", text, start, end: i });
      continue;
    }
    if (c === "(" || c === ")") { tokens.push({ type: c, text: c, start, end: i + 1 }); i++; continue; }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op !== undefined) { tokens.push({ type: "op", text: op, start, end: i + op.length }); i += op.length; continue; }
    if (c === "=") fail("`=` is not a comparison: use `==`", i);
    if (c === "&") fail("single `&`: use `&&`", i);
    if (c === "|") fail("single `|`: use `||`", i);
    if (c === "!") fail("`!` only appears in `!=`; to negate, write the opposite comparison", i);
    const shown = JSON.stringify(String.fromCodePoint(src.codePointAt(i) ?? 0));
    fail(`unexpected character ${shown}`, i);
  }
  tokens.push({ type: "eof", text: "", start: src.length, end: src.length });
  return tokens;
}
