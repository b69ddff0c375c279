/**
 * Incremental text assembly for token streams: whole UTF-8 characters only, and stop strings that
 * are never emitted, even when they span several tokens.
 */

const REPLACEMENT = "\uFFFD";
/** A UTF-8 character is at most 4 bytes; byte-level tokenizers may need that many tokens. */
const MAX_HELD_TOKENS = 4;
/** Tokens of left context handed to the detokenizer (for tokenizers that treat leading spaces specially). */
const CONTEXT_TOKENS = 8;

export type Detokenize = (tokens: readonly number[], lastTokens: readonly number[]) => string;

export interface TokenDecoder {
  /** Adds one token; returns the text that is now complete (possibly ""). */
  push(token: number): string;
  /** Returns whatever is still held (at the end of generation). */
  flush(): string;
}

export function createTokenDecoder(detokenize: Detokenize): TokenDecoder {
  let pending: number[] = [];
  let last: number[] = [];

  const release = (): string => {
    const text = detokenize(pending, last);
    last = [...last, ...pending].slice(-CONTEXT_TOKENS);
    pending = [];
    return text;
  };

  return {
    push(token) {
      pending.push(token);
      const text = detokenize(pending, last);
      if (text.endsWith(REPLACEMENT) && pending.length < MAX_HELD_TOKENS) return "";
      // Either whole, or a genuinely invalid sequence: emit it as the model produced it.
      return release();
    },
    flush() {
      return pending.length === 0 ? "" : release();
    },
  };
}

/**
 * The end of a generation's text: what the decoder still held at the end can only be an incomplete
 * last character (generation was cut inside it, at max_tokens or a stop) or bytes the model wrote
 * invalid; neither can be shown as text, so it goes instead of becoming U+FFFD.
 */
export function dropIncompleteTail(flushed: string): string {
  return flushed.replace(/\uFFFD+$/, "");
}

export interface StopResult {
  /** Text safe to emit now. */
  text: string;
  /** A stop string was found: generation must end; `text` is everything before it. */
  stopped: boolean;
}

export interface StopMatcher {
  push(piece: string): StopResult;
  /** Text held back because it could have been the start of a stop string. */
  flush(): string;
}

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  const needles = stops.filter((s) => s.length > 0);
  let held = "";

  return {
    push(piece) {
      if (needles.length === 0) return { text: piece, stopped: false };
      const buf = held + piece;
      let first = -1;
      for (const s of needles) {
        const i = buf.indexOf(s);
        if (i !== -1 && (first === -1 || i < first)) first = i;
      }
      if (first !== -1) {
        held = "";
        return { text: buf.slice(0, first), stopped: true };
      }
      // Hold the longest suffix of buf that is a proper prefix of some stop string.
      let keep = 0;
      for (const s of needles) {
        for (let k = Math.min(s.length - 1, buf.length); k > keep; k--) {
          if (buf.endsWith(s.slice(0, k))) {
            keep = k;
            break;
          }
        }
      }
      held = buf.slice(buf.length - keep);
      return { text: buf.slice(0, buf.length - keep), stopped: false };
    },
    flush() {
      const out = held;
      held = "";
      return out;
    },
  };
}
