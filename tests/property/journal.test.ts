import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { openJournal, parseJournal } from "../../src/harness/soak/journal.js";
import type { JournalEntry, JournalInput } from "../../src/harness/soak/journal.js";
import { createMemoryFs } from "../../src/harness/soak/memory-fs.js";

const payload = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((k) => !["seq", "type", "crc", "__proto__"].includes(k)),
  fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 3 })),
  { maxKeys: 4 },
);
const inputs = fc.array(
  fc.tuple(fc.constantFrom("window" as const, "meta" as const, "end" as const), payload).map(([type, rest]): JournalInput => ({ ...rest, type })),
  { minLength: 1, maxLength: 8 },
);

async function journalBytes(list: JournalInput[]): Promise<{ data: Uint8Array; entries: JournalEntry[] }> {
  const mem = createMemoryFs();
  const j = await openJournal("/j.jsonl", { fs: mem.fs });
  const entries: JournalEntry[] = [];
  for (const e of list) entries.push(await j.append(e));
  await j.close();
  return { data: mem.get("/j.jsonl")!, entries: JSON.parse(JSON.stringify(entries)) as JournalEntry[] };
}

function isSubsequence(sub: unknown[], full: unknown[]): boolean {
  let i = 0;
  for (const item of full) if (i < sub.length && isDeepStrictEqual(item, sub[i])) i++;
  return i === sub.length;
}

describe("journal", () => {
  test("truncating a journal at any byte length yields a prefix of its entries", async () => {
    await fc.assert(
      fc.asyncProperty(inputs, fc.double({ min: 0, max: 1, noNaN: true }), async (list, cut) => {
        const { data, entries } = await journalBytes(list);
        const at = Math.floor(cut * data.length);
        const r = parseJournal(data.subarray(0, at));
        expect(r.entries).toEqual(entries.slice(0, r.entries.length));
        expect(r.badChecksumLines).toBe(0);
        expect(r.tornLines).toBeLessThanOrEqual(1);
        const complete = data.subarray(0, at).filter((b) => b === 0x0a).length;
        expect(r.entries.length).toBeGreaterThanOrEqual(complete);
      }),
      { numRuns: 200 },
    );
  });

  test("reopening a journal cut at any byte and appending to it loses no entry and damages no line", async () => {
    await fc.assert(
      fc.asyncProperty(inputs, inputs, fc.double({ min: 0, max: 1, noNaN: true }), async (before, after, cut) => {
        const { data, entries } = await journalBytes(before);
        const mem = createMemoryFs();
        mem.set("/j.jsonl", data.subarray(0, Math.floor(cut * data.length)));
        const j = await openJournal("/j.jsonl", { fs: mem.fs });
        const kept = j.recovered.entries;
        const added: JournalEntry[] = [];
        for (const e of after) added.push(await j.append(e));
        await j.close();
        const r = parseJournal(mem.get("/j.jsonl")!);
        expect(r.entries).toEqual([...kept, ...JSON.parse(JSON.stringify(added))]);
        expect(kept).toEqual(entries.slice(0, kept.length));
        expect(r.badChecksumLines).toBe(0);
        expect(r.tornLines).toBe(j.recovered.tornLines);
      }),
      { numRuns: 200 },
    );
  });

  test("corrupting any single byte never throws, loses at most two entries and reports the loss", async () => {
    await fc.assert(
      fc.asyncProperty(inputs, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 255 }), async (list, where, xor) => {
        const { data, entries } = await journalBytes(list);
        const copy = data.slice();
        const at = Math.floor(where * copy.length);
        copy[at] = copy[at]! ^ xor;
        const r = parseJournal(copy);
        expect(isSubsequence(r.entries, entries)).toBe(true);
        const lost = entries.length - r.entries.length;
        expect(lost).toBeLessThanOrEqual(2);
        if (lost > 0) expect(r.badChecksumLines + r.tornLines).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
