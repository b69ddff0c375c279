/** Every corruption operation of `gauntlet chaos`, applied to a good record: the codec must reject each one. */
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { decodeRecord, encodeRecord } from "../../src/cache/record-codec.js";
import type { CacheRecord } from "../../src/cache/record-codec.js";
import { BYTE_CORRUPTIONS, CORRUPTION_OPS, corruptionOp, seededRandom } from "../../src/harness/chaos/corrupt.js";

const FP = "a".repeat(64);
const KEY = "b".repeat(64);
const record: CacheRecord = {
  key: KEY,
  fingerprint: FP,
  createdAt: 1_700_000_000_000,
  value: { text: "the right answer — ünïcödé", finishReason: "stop", promptTokens: 5, completionTokens: 7 },
};
const good = encodeRecord(record);
const expectation = { fingerprint: FP, maxBytes: 1 << 20, key: KEY };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "gauntlet-chaos-corrupt-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("chaos corruption operations", () => {
  test("every byte corruption changes the bytes, and the codec rejects the result (200 seeds each)", () => {
    for (const [name, corrupt] of Object.entries(BYTE_CORRUPTIONS)) {
      for (let seed = 1; seed <= 200; seed++) {
        const bad = corrupt(good, { random: seededRandom(seed), record });
        expect(bad.equals(good), `${name} seed ${seed} left the record unchanged`).toBe(false);
        const decoded = decodeRecord(bad, expectation);
        expect(decoded.ok, `${name} seed ${seed} was accepted`).toBe(false);
      }
    }
  });

  test("each byte corruption is reproducible from its seed", () => {
    for (const corrupt of Object.values(BYTE_CORRUPTIONS)) {
      expect(corrupt(good, { random: seededRandom(9), record }).equals(corrupt(good, { random: seededRandom(9), record }))).toBe(true);
    }
  });

  test("the codec names the reason each record-level corruption is built to trigger", () => {
    const reason = (name: keyof typeof BYTE_CORRUPTIONS) => {
      const d = decodeRecord(BYTE_CORRUPTIONS[name](good, { random: seededRandom(1), record }), expectation);
      return d.ok ? "accepted" : d.reason;
    };
    expect(reason("truncate")).toBe("truncated");
    expect(reason("empty")).toBe("truncated");
    expect(reason("append-garbage")).toBe("binary-garbage");
    expect(reason("null-bytes")).toBe("binary-garbage");
    expect(reason("invalid-utf8")).toBe("binary-garbage");
    expect(reason("invalid-utf8-payload")).toBe("invalid-utf8");
    expect(reason("other-model")).toBe("wrong-fingerprint");
    expect(reason("other-version")).toBe("wrong-version");
    expect(reason("misplaced")).toBe("key-mismatch");
    expect(["checksum-mismatch", "invalid-json", "binary-garbage", "truncated", "wrong-version", "wrong-fingerprint", "key-mismatch", "invalid-utf8"]).toContain(reason("flip-bits"));
    expect(["checksum-mismatch", "binary-garbage", "invalid-json", "truncated"]).toContain(reason("zero-range"));
  });

  test("record-level corruptions carry a wrong text, so accepting one would serve a visibly wrong answer", () => {
    for (const name of ["other-model", "other-version", "misplaced", "invalid-utf8-payload"] as const) {
      const bad = BYTE_CORRUPTIONS[name](good, { random: seededRandom(1), record }).toString("latin1");
      expect(bad, name).not.toContain("the right answer");
    }
  });

  test("file-level operations: a directory, a symlink loop, an unreadable file, a FIFO; each undone by its cleanup", async () => {
    const dir = tempDir();
    const ctx = { random: seededRandom(1), record };
    for (const name of ["directory", "symlink-loop", "unreadable", "fifo"]) {
      const path = join(dir, `${name}.rec`);
      writeFileSync(path, good);
      const op = corruptionOp(name);
      await op.apply(path, ctx);
      const st = lstatSync(path);
      if (name === "directory") expect(st.isDirectory()).toBe(true);
      if (name === "symlink-loop") expect(st.isSymbolicLink()).toBe(true);
      if (name === "fifo") expect(st.isFIFO()).toBe(true);
      if (name === "unreadable") expect(st.mode & 0o777).toBe(0);
      await op.cleanup?.(path);
      if (name === "unreadable") expect(lstatSync(path).mode & 0o777).not.toBe(0);
      else expect(() => lstatSync(path), `${name} left its file behind`).toThrow(/ENOENT/);
    }
  });

  test("after the server handled it, an unreadable thing must still be there (or, where a rename can, a fresh valid record)", async () => {
    const dir = tempDir();
    const ctx = { random: seededRandom(1), record };
    const expected = { fingerprint: FP, key: KEY, text: record.value.text };
    for (const name of ["directory", "symlink-loop", "fifo"]) {
      const path = join(dir, `${name}.rec`);
      const op = corruptionOp(name);
      expect(op.inspectAfter, name).toBeDefined();
      await op.apply(path, ctx);
      expect(await op.inspectAfter!(path, expected), `${name} left in place`).toMatchObject({ ok: true });
      // Gone, or replaced by something that is not a valid record of the request: the promise is broken.
      await op.cleanup?.(path);
      expect(await op.inspectAfter!(path, expected), `${name} removed`).toMatchObject({ ok: false });
      writeFileSync(path, "garbage");
      expect(await op.inspectAfter!(path, expected), `${name} replaced by garbage`).toMatchObject({ ok: false });
      rmSync(path, { force: true });
    }
    // A symbolic link or a FIFO may be replaced by the fresh record (rename replaces the link, never its target).
    for (const name of ["symlink-loop", "fifo"]) {
      const path = join(dir, `${name}-fresh.rec`);
      writeFileSync(path, good);
      expect(await corruptionOp(name).inspectAfter!(path, expected), name).toMatchObject({ ok: true });
      writeFileSync(path, encodeRecord({ ...record, value: { ...record.value, text: "another text" } }));
      expect(await corruptionOp(name).inspectAfter!(path, expected), `${name} with another text`).toMatchObject({ ok: false });
    }
    // A directory cannot be replaced by a rename: a regular file there means it was removed.
    const path = join(dir, "directory-fresh.rec");
    writeFileSync(path, good);
    expect(await corruptionOp("directory").inspectAfter!(path, expected)).toMatchObject({ ok: false });
  });

  test("byte operations write the corrupted bytes to the file", async () => {
    const dir = tempDir();
    const path = join(dir, `${KEY}.rec`);
    writeFileSync(path, good);
    await corruptionOp("truncate").apply(path, { random: seededRandom(3), record });
    const after = readFileSync(path);
    expect(after.length).toBeLessThan(good.length);
    expect(good.subarray(0, after.length).equals(after)).toBe(true);
  });

  test("the catalogue lists every operation once, and names the server's expected handling", () => {
    const names = CORRUPTION_OPS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of Object.keys(BYTE_CORRUPTIONS)) expect(names).toContain(name);
    for (const op of CORRUPTION_OPS) expect(["quarantine", "io-error", "maybe-readable"]).toContain(op.handling);
    expect(() => corruptionOp("nope")).toThrow(/unknown corruption/);
  });
});
