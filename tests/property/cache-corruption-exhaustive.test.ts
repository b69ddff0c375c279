import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DiskStore } from "../../src/cache/disk-store.js";
import { CORRUPTION_REASONS, decodeRecord, encodeRecord } from "../../src/cache/record-codec.js";
import type { CacheRecord, DecodeResult } from "../../src/cache/record-codec.js";

const FP = "9".repeat(64);
const rec = (n: number, text: string): CacheRecord => ({
  key: String(n).repeat(64),
  fingerprint: FP,
  createdAt: 1_700_000_000_000 + n,
  value: { text, finishReason: n % 2 === 0 ? "stop" : "length", promptTokens: 10 + n, completionTokens: 3 * n },
});
const SAMPLES = [rec(1, "Hi!"), rec(2, "naïve café — ✓ 🎉 \u0000\n\"quoted\""), rec(3, "")];
const MASKS = [0xff, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80];
const expectation = (r: CacheRecord) => ({ fingerprint: FP, maxBytes: 1 << 20, key: r.key });

function decodeSafely(buf: Buffer, r: CacheRecord): DecodeResult {
  let result: DecodeResult | undefined;
  expect(() => {
    result = decodeRecord(buf, expectation(r));
  }).not.toThrow();
  return result as DecodeResult;
}

describe("record corruption (exhaustive)", () => {
  test.each(SAMPLES.map((r) => [r.key[0], r] as const))(
    "record %s: flipping any bits of any single byte is always detected",
    (_, r) => {
      const good = encodeRecord(r);
      expect(decodeSafely(good, r)).toEqual({ ok: true, record: r });
      for (let i = 0; i < good.length; i++) {
        for (const mask of MASKS) {
          const bad = Buffer.from(good);
          bad[i] = (bad[i] as number) ^ mask;
          const result = decodeSafely(bad, r);
          if (result.ok) throw new Error(`byte ${i} ^ ${mask} was accepted`);
          expect(CORRUPTION_REASONS).toContain(result.reason);
        }
      }
    },
  );

  test.each(SAMPLES.map((r) => [r.key[0], r] as const))("record %s: every cut is truncated", (_, r) => {
    const good = encodeRecord(r);
    for (let len = 0; len < good.length; len++) {
      expect(decodeSafely(good.subarray(0, len), r)).toEqual({ ok: false, reason: "truncated" });
    }
  });

  test.each(SAMPLES.map((r) => [r.key[0], r] as const))("record %s: any byte appended is garbage", (_, r) => {
    const good = encodeRecord(r);
    for (let b = 0; b < 256; b++) {
      expect(decodeSafely(Buffer.concat([good, Buffer.from([b])]), r)).toEqual({ ok: false, reason: "binary-garbage" });
    }
  });

  describe("in a store with several records", () => {
    let root: string;
    const victim = SAMPLES[1] as CacheRecord;
    const others = SAMPLES.filter((r) => r !== victim);
    let file: string;
    let good: Buffer;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "gauntlet-corruption-"));
      const store = new DiskStore({ dir: root, fingerprint: FP });
      expect((await store.open()).ok).toBe(true);
      for (const r of SAMPLES) expect((await store.put(r)).ok).toBe(true);
      file = join(root, `${victim.key}.rec`);
      good = await readFile(file);
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    /**
     * Writes the damaged bytes, restarts the store (open, start-up scan, reads) and checks that nothing throws
     * past the store's boundary, the victim is never served, and every other record is kept. The quarantine
     * budget is 0 so each case starts from the same directory.
     */
    async function onlyVictimLost(damaged: Buffer, what: string): Promise<void> {
      await writeFile(file, damaged);
      const store = new DiskStore({ dir: root, fingerprint: FP, quarantineMaxBytes: 0 });
      expect((await store.open()).ok, what).toBe(true);
      const seen: CacheRecord[] = [];
      const result = await store.scan((r) => void seen.push(r));
      expect(result, what).toMatchObject({ ok: true, valid: others.length, ioErrors: 0 });
      expect(seen.sort((a, b) => a.createdAt - b.createdAt), what).toEqual(others);
      expect((await store.get(victim.key)).hit, what).toBe(false);
      for (const r of others) expect(await store.get(r.key), what).toEqual({ hit: true, record: r });
    }

    test("a byte flipped at every offset of the record file loses only that record", async () => {
      expect(good.length).toBeGreaterThan(200);
      for (let i = 0; i < good.length; i++) {
        const bad = Buffer.from(good);
        bad[i] = (bad[i] as number) ^ 0xff;
        await onlyVictimLost(bad, `byte ${i} flipped`);
      }
    });

    test("the record file cut at every length loses only that record", async () => {
      for (let len = 0; len < good.length; len++) await onlyVictimLost(good.subarray(0, len), `cut at ${len}`);
    });
  });
});
