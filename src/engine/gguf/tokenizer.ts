/**
 * The embedded model's tokenizer: GPT-2 byte-level BPE with the 256 byte symbols (id = byte value),
 * a few merges of common English pieces, and the ChatML control tokens.
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

const CONTROL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

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
}

function decodesToPrintableAscii(symbolText: string, byteOf: Map<string, number>): boolean {
  for (const ch of symbolText) {
    const b = byteOf.get(ch);
    if (b === undefined || b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

export function buildTinyTokenizer(): TinyTokenizer {
  const byteSymbols = bytesToUnicode();
  const byteOf = new Map(byteSymbols.map((s, b) => [s, b] as const));
  const tokens = [...byteSymbols];
  const merges: string[] = [];
  for (const [a, b] of MERGES) {
    merges.push(`${a} ${b}`);
    tokens.push(`${a}${b}`);
  }
  const firstControl = tokens.length;
  tokens.push(...CONTROL_TOKENS);
  const tokenTypes = tokens.map((_, i) => (i >= firstControl ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_NORMAL));
  const printable = tokens.map((tok, i) => i < firstControl && decodesToPrintableAscii(tok, byteOf));
  return {
    tokens,
    tokenTypes,
    merges,
    bosId: firstControl,
    imStartId: firstControl + 1,
    eosId: firstControl + 2,
    paddingId: firstControl,
    printable,
  };
}
