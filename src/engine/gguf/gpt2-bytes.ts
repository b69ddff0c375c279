/**
 * GPT-2's bytes_to_unicode: every byte value maps to a printable Unicode character, so byte-level
 * BPE vocabularies can store raw bytes as text. Printable latin-1 bytes map to themselves; the
 * others map to U+0100 upwards in byte order.
 */
export function bytesToUnicode(): string[] {
  const isPrintable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) {
    out.push(String.fromCodePoint(isPrintable(b) ? b : 256 + next++));
  }
  return out;
}
