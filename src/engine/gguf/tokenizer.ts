/**
 * The embedded model's tokenizer: GPT-2 byte-level BPE with the 256 byte symbols (id = byte value),
 * a few merges of common English pieces, and the ChatML control tokens.
 *
 * The multi-byte variant adds merges for whole characters (é, 世, 界, 👋, 😀) and for parts of them
 * that lack exactly one last byte (E4 B8 of 世, F0 9F 91 of 👋, ...), and classifies every token by
 * what the generator lets the model emit: "text" (whole printable characters), "lead" (text ending
 * in a character that lacks exactly one continuation byte: the 2-byte lead bytes C3-DF and the
 * part tokens), "continuation" (the single bytes 80-BF, emitted only right after a lead) or "never".
 */
import { bytesToUnicode } from "./gpt2-bytes.js";

/** A ChatML template that node-llama-cpp and llama.cpp recognise as ChatML. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export const TOKEN_TYPE_NORMAL = 1;
export const TOKEN_TYPE_CONTROL = 3;

/** Merges in priority order, written with GPT-2 byte symbols ("Ġ" is a space). */
const MERGES: readonly (readonly [string, string])[] = [
  ["Ġ", "t"],
  ["h", "e"],
  ["i", "n"],
  ["Ġ", "a"],
  ["e", "r"],
  ["o", "n"],
  ["r", "e"],
  ["Ġt", "he"],
  ["Ġ", "s"],
  ["e", "n"],
  ["a", "t"],
  ["o", "r"],
  ["i", "s"],
  ["Ġ", "w"],
  ["Ġ", "o"],
  ["l", "l"],
];

/** Multi-byte merges, as byte strings merged left to right in priority order. */
const MULTIBYTE_PIECES: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[0xc3], [0xa9]], // é
  [[0xe4], [0xb8]], // part of 世 (lacks one byte)
  [[0xe4, 0xb8], [0x96]], // 世
  [[0xe7], [0x95]], // part of 界
  [[0xe7, 0x95], [0x8c]], // 界
  [[0xf0], [0x9f]], // lacks two bytes: never emitted on its own
  [[0xf0, 0x9f], [0x91]], // part of 👋
  [[0xf0, 0x9f, 0x91], [0x8b]], // 👋
  [[0xf0, 0x9f], [0x98]], // part of 😀
  [[0xf0, 0x9f, 0x98], [0x80]], // 😀
];

const CONTROL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

/** What the generator lets the model emit (see the file comment). */
export type TokenKind = "text" | "lead" | "continuation" | "never";

export interface TinyTokenizerOptions {
  /** Add whole- and part-character tokens and let generation emit multi-byte UTF-8. Default false. */
  multiByte?: boolean;
}

export interface TinyTokenizer {
  tokens: string[];
  tokenTypes: number[];
  /** "a b" strings in priority order. */
  merges: string[];
  bosId: number;
  eosId: number;
  imStartId: number;
  paddingId: number;
  /** Token ids whose text is printable (ASCII 0x20-0x7e once decoded). */
  printable: boolean[];
  /** Per token id: what generation may emit. Without multiByte only "text" (printable ASCII) and "never". */
  kinds: TokenKind[];
}

function decodesToPrintableAscii(symbolText: string, byteOf: Map<string, number>): boolean {
  for (const ch of symbolText) {
    const b = byteOf.get(ch);
    if (b === undefined || b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** Whole printable characters only (ASCII printable, or any non-ASCII character), valid UTF-8. */
function isWholeText(bytes: Buffer): boolean {
  const text = bytes.toString("utf8");
  if (text.includes("\uFFFD") || Buffer.from(text, "utf8").length !== bytes.length) return false;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return false;
  }
  return true;
}

/** Bytes ending in a lead that lacks exactly one continuation byte, with whole text before it. */
function lacksOneByte(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  // Appending the smallest and the largest continuation byte must both give whole printable text.
  return [0x80, 0xbf].every((c) => isWholeText(Buffer.concat([bytes, Buffer.of(c)])));
}

function kindOf(bytes: Buffer, multiByte: boolean): TokenKind {
  const ascii = bytes.every((b) => b >= 0x20 && b <= 0x7e);
  if (!multiByte) return ascii ? "text" : "never";
  if (bytes.length === 1 && bytes[0]! >= 0x80 && bytes[0]! <= 0xbf) return "continuation";
  if (isWholeText(bytes)) return "text";
  return lacksOneByte(bytes) ? "lead" : "never";
}

export function buildTinyTokenizer(opts: TinyTokenizerOptions = {}): TinyTokenizer {
  const multiByte = opts.multiByte ?? false;
  const byteSymbols = bytesToUnicode();
  const byteOf = new Map(byteSymbols.map((s, b) => [s, b] as const));
  const tokens = [...byteSymbols];
  const merges: string[] = [];
  for (const [a, b] of MERGES) {
    merges.push(`${a} ${b}`);
    tokens.push(`${a}${b}`);
  }
  if (multiByte) {
    const sym = (bytes: readonly number[]) => bytes.map((b) => byteSymbols[b]).join("");
    for (const [a, b] of MULTIBYTE_PIECES) {
      merges.push(`${sym(a)} ${sym(b)}`);
      tokens.push(`${sym(a)}${sym(b)}`);
    }
  }
  const firstControl = tokens.length;
  tokens.push(...CONTROL_TOKENS);
  const tokenTypes = tokens.map((_, i) => (i >= firstControl ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_NORMAL));
  const printable = tokens.map((tok, i) => i < firstControl && decodesToPrintableAscii(tok, byteOf));
  const kinds = tokens.map((tok, i) => (i >= firstControl ? "never" : kindOf(Buffer.from([...tok].map((ch) => byteOf.get(ch)!)), multiByte)));
  return {
    tokens,
    tokenTypes,
    merges,
    bosId: firstControl,
    imStartId: firstControl + 1,
    eosId: firstControl + 2,
    paddingId: firstControl,
    printable,
    kinds,
  };
}
