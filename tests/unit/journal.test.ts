import { describe, expect, test } from "vitest";
import { openJournal, parseJournal, readJournal, encodeJournalLine } from "../../src/harness/soak/journal.js";
import type { JournalEntry } from "../../src/harness/soak/journal.js";
import { createMemoryFs } from "../../src/harness/soak/memory-fs.js";
import { crc32 } from "../../src/harness/soak/crc32.js";

const PATH = "/runs/r1/journal.jsonl";
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

async function writeSample(fsys = createMemoryFs()): Promise<{ mem: ReturnType<typeof createMemoryFs>; written: JournalEntry[] }> {
  const j = await openJournal(PATH, { fs: fsys.fs });
  const written = [
    await j.append({ type: "meta", runId: "r1", plannedDurationMs: 14_400_000 }),
    await j.append({ type: "window", index: 0, e2e: { p50: 12.5, p95: 30 }, note: "héllo ✓" }),
    await j.append({ type: "window", index: 1, e2e: { p50: 13, p95: 31 }, nested: [1, [2, { a: null }]] }),
    await j.append({ type: "end", reason: "completed" }),
  ];
  await j.close();
  return { mem: fsys, written };
}

describe("journal", () => {
  test("crc32 matches the standard check value", () => {
    expect(crc32(bytes("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });

  test("round-trips appended entries with consecutive sequence numbers", async () => {
    const { mem, written } = await writeSample();
    expect(written.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.entries).toEqual(written);
    expect(r.entries[1]).toMatchObject({ type: "window", note: "héllo ✓" });
    expect(Object.keys(written[1]!).slice(0, 2)).toEqual(["seq", "type"]);
    expect(r).toMatchObject({ tornLines: 0, badChecksumLines: 0, lastSeq: 4, skipped: [] });
  });

  test("writes one JSON object per line whose crc covers the line without the crc field", async () => {
    const { mem } = await writeSample();
    const lines = text(mem.get(PATH)).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const obj = JSON.parse(line) as Record<string, unknown>;
      const { crc, ...rest } = obj;
      expect(Object.keys(obj).slice(0, 2)).toEqual(["seq", "type"]);
      expect(crc).toBe(crc32(bytes(JSON.stringify(rest))).toString(16).padStart(8, "0"));
    }
  });

  test("skips and counts a torn last line", async () => {
    const { mem, written } = await writeSample();
    const full = mem.get(PATH)!;
    mem.set(PATH, full.subarray(0, full.length - 7));
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.entries).toEqual(written.slice(0, 3));
    expect(r.tornLines).toBe(1);
    expect(r.badChecksumLines).toBe(0);
    expect(r.lastSeq).toBe(3);
    expect(r.skipped).toEqual([{ line: 4, reason: "torn" }]);
  });

  test("accepts a complete last line that only lacks its newline", async () => {
    const { mem, written } = await writeSample();
    const full = mem.get(PATH)!;
    const r = parseJournal(full.subarray(0, full.length - 1));
    expect(r.entries).toEqual(written);
    expect(r.tornLines).toBe(0);
  });

  test("skips and counts garbage and corrupted lines in the middle", async () => {
    const { mem, written } = await writeSample();
    const lines = text(mem.get(PATH)).split("\n");
    const flipped = lines[1]!.replace("12.5", "92.5");
    const noisy = [lines[0], "hello", '{"seq":9,"type":"window"}', flipped, "\u0000\u00ff{", "", lines[2], lines[3], ""].join("\n");
    mem.set(PATH, bytes(noisy));
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.entries).toEqual([written[0], written[2], written[3]]);
    expect(r.badChecksumLines).toBe(5);
    expect(r.tornLines).toBe(0);
    expect(r.skipped.map((s) => s.line)).toEqual([2, 3, 4, 5, 6]);
    expect(r.skipped.find((s) => s.line === 4)?.reason).toBe("checksum");
  });

  test("never throws on arbitrary bytes and reports a missing file as empty", async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256);
    const r = parseJournal(garbage);
    expect(r.entries).toEqual([]);
    expect(r.badChecksumLines + r.tornLines).toBeGreaterThan(0);
    const missing = await readJournal("/nope.jsonl", { fs: createMemoryFs().fs });
    expect(missing).toMatchObject({ entries: [], tornLines: 0, badChecksumLines: 0, lastSeq: 0 });
  });

  test("caps the list of skipped lines but keeps counting", () => {
    const r = parseJournal(bytes("x\n".repeat(500)));
    expect(r.badChecksumLines).toBe(500);
    expect(r.skipped.length).toBe(100);
  });

  test("reopening continues after the last sequence number and keeps a torn tail as a counted torn line (no entry is missing)", async () => {
    const { mem, written } = await writeSample();
    const full = mem.get(PATH)!;
    mem.set(PATH, full.subarray(0, full.length - 5));
    const j = await openJournal(PATH, { fs: mem.fs });
    expect(j.recovered.tornLines).toBe(1);
    expect(j.recovered.lastSeq).toBe(3);
    const added = await j.append({ type: "window", index: 2 });
    await j.close();
    expect(added.seq).toBe(4);
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.entries).toEqual([...written.slice(0, 3), added]);
    expect(r.badChecksumLines).toBe(0);
    expect(r.tornLines).toBe(1);
    expect(r.skipped).toEqual([{ line: 4, reason: "torn" }]);
  });

  test("a damaged line whose entry is missing (a gap in the sequence numbers) stays a damaged line", async () => {
    const { mem, written } = await writeSample();
    const lines = text(mem.get(PATH)).split("\n");
    mem.set(PATH, bytes([lines[0], lines[1]!.replace("12.5", "92.5"), lines[2], lines[3], ""].join("\n")));
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.entries).toEqual([written[0], written[2], written[3]]);
    expect(r.badChecksumLines).toBe(1);
    expect(r.tornLines).toBe(0);
  });

  test("serialises concurrent appends so lines never interleave", async () => {
    const mem = createMemoryFs({ splitWrites: true });
    const j = await openJournal(PATH, { fs: mem.fs });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => j.append({ type: "window", index: i, pad: "x".repeat(i * 10) })));
    await j.close();
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.badChecksumLines).toBe(0);
    expect(r.entries).toEqual(results);
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test("an acknowledged append survives a simulated power loss", async () => {
    const mem = createMemoryFs();
    const j = await openJournal(PATH, { fs: mem.fs });
    const a = await j.append({ type: "meta", runId: "x" });
    mem.crash();
    const r = await readJournal(PATH, { fs: mem.fs });
    expect(r.entries).toEqual([a]);
  });

  test("an I/O error at any operation rejects, breaks the journal and leaves a readable prefix", async () => {
    let failures = 0;
    for (let failAt = 1; failAt <= 14; failAt++) {
      for (const tornWrite of [false, true]) {
        const mem = createMemoryFs({ failAt, tornWrite });
        const acknowledged: JournalEntry[] = [];
        const attempted: unknown[] = [];
        try {
          const j = await openJournal(PATH, { fs: mem.fs });
          for (let i = 0; i < 4; i++) {
            attempted.push(i);
            acknowledged.push(await j.append({ type: "window", index: i }));
          }
          await j.close();
        } catch (err) {
          failures++;
          expect(err).toBeInstanceOf(Error);
        }
        mem.crash();
        const r = await readJournal(PATH, { fs: mem.fs });
        expect(r.entries.slice(0, acknowledged.length)).toEqual(acknowledged);
        expect(r.entries.length).toBeLessThanOrEqual(attempted.length);
        expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: r.entries.length }, (_, i) => i));
      }
    }
    expect(failures).toBeGreaterThan(20);
  });

  test("after a failed write every later append rejects", async () => {
    // ops: readFile, open, open dir, sync dir, close dir, then the first writeFile (6)
    const mem = createMemoryFs({ failAt: 6 });
    const j = await openJournal(PATH, { fs: mem.fs });
    const first = j.append({ type: "window", index: 0 });
    const second = j.append({ type: "window", index: 1 });
    await expect(first).rejects.toThrow(/EIO/);
    await expect(second).rejects.toThrow(/broken/);
    await expect(j.append({ type: "end" })).rejects.toThrow(/broken/);
  });

  test("rejects reserved keys, unknown types and appends after close", async () => {
    const j = await openJournal(PATH, { fs: createMemoryFs().fs });
    await expect(j.append({ type: "window", seq: 3 })).rejects.toThrow(TypeError);
    await expect(j.append({ type: "window", crc: "x" })).rejects.toThrow(TypeError);
    await expect(j.append({ type: "bogus" as "window" })).rejects.toThrow(TypeError);
    const ok = await j.append({ type: "meta" });
    expect(ok.seq).toBe(1);
    await j.close();
    await expect(j.append({ type: "end" })).rejects.toThrow(/closed/);
  });

  test("encodes a line that parses back to the same entry", () => {
    const entry: JournalEntry = { seq: 7, type: "end", ok: true };
    const r = parseJournal(bytes(encodeJournalLine(entry) + "\n"));
    expect(r.entries).toEqual([entry]);
  });
});
