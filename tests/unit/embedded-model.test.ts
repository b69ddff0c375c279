import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { embeddedModelFileName, embeddedModelId, ensureEmbeddedModel } from "../../src/engine/embedded-model.js";
import { readGgufHeader } from "../../src/engine/gguf/header.js";
import { writeTinyModel } from "../../src/engine/gguf/writer.js";

let root = "";
let n = 0;
const freshDir = (): string => join(root, `cache-${n++}`);
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "embedded-model-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("embedded-model", () => {
  test("embeddedModelId names the preset", () => {
    expect(embeddedModelId("tiny")).toBe("gauntlet-tiny");
    expect(embeddedModelId("medium")).toBe("gauntlet-medium");
  });

  test("the file name carries the preset, the variant, the seed and the format version", () => {
    expect(embeddedModelFileName("tiny")).toBe("gauntlet-tiny-42-v1.gguf");
    expect(embeddedModelFileName("small", { seed: 7 })).toBe("gauntlet-small-7-v1.gguf");
    expect(embeddedModelFileName("tiny", { seed: 7, allowEos: true })).toBe("gauntlet-tiny-eos-7-v1.gguf");
    expect(embeddedModelFileName("tiny", { contextLength: 512 })).toBe("gauntlet-tiny-ctx512-42-v1.gguf");
    expect(embeddedModelFileName("tiny", { multiByte: true })).toBe("gauntlet-tiny-utf8-42-v1.gguf");
    expect(embeddedModelFileName("tiny", { multiByte: true, allowEos: true })).toBe("gauntlet-tiny-eos-utf8-42-v1.gguf");
  });

  test("the first call creates the file with the generator's bytes, creating the directory", async () => {
    const dir = join(freshDir(), "nested");
    const res = await ensureEmbeddedModel(dir, "tiny", { seed: 5 });
    expect(res.created).toBe(true);
    expect(basename(res.path)).toBe("gauntlet-tiny-5-v1.gguf");
    const bytes = await readFile(res.path);
    const expected = writeTinyModel({ preset: "tiny", seed: 5, name: "gauntlet-tiny" });
    expect(bytes.equals(expected)).toBe(true);
    expect(res.sha256).toBe(sha(expected));
    const info = await readGgufHeader(res.path);
    expect(info.name).toBe("gauntlet-tiny");
  });

  test("a later call reuses the file without rewriting it", async () => {
    const dir = freshDir();
    const first = await ensureEmbeddedModel(dir, "tiny");
    const before = await stat(first.path);
    const second = await ensureEmbeddedModel(dir, "tiny");
    expect(second).toEqual({ ...first, created: false });
    expect((await stat(second.path)).ino).toBe(before.ino);
  });

  test("a tampered file is detected by its SHA-256 and rewritten", async () => {
    const dir = freshDir();
    const first = await ensureEmbeddedModel(dir, "tiny");
    const bytes = await readFile(first.path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await writeFile(first.path, bytes);
    const repaired = await ensureEmbeddedModel(dir, "tiny");
    expect(repaired.created).toBe(true);
    expect(sha(await readFile(repaired.path))).toBe(first.sha256);
  });

  test("a truncated file is rewritten", async () => {
    const dir = freshDir();
    const first = await ensureEmbeddedModel(dir, "tiny");
    await writeFile(first.path, (await readFile(first.path)).subarray(0, 100));
    const repaired = await ensureEmbeddedModel(dir, "tiny");
    expect(repaired.created).toBe(true);
    expect((await stat(repaired.path)).size).toBeGreaterThan(100);
    expect(sha(await readFile(repaired.path))).toBe(first.sha256);
  });

  test("no temporary files are left behind", async () => {
    const dir = freshDir();
    await ensureEmbeddedModel(dir, "tiny");
    await ensureEmbeddedModel(dir, "tiny", { allowEos: true });
    expect((await readdir(dir)).sort()).toEqual(["gauntlet-tiny-42-v1.gguf", "gauntlet-tiny-eos-42-v1.gguf"]);
  });

  test("variants with different options get different files and hashes", async () => {
    const dir = freshDir();
    const a = await ensureEmbeddedModel(dir, "tiny");
    const b = await ensureEmbeddedModel(dir, "tiny", { allowEos: true });
    expect(a.path).not.toBe(b.path);
    expect(a.sha256).not.toBe(b.sha256);
  });

  test("concurrent calls for the same model all succeed with the same file", async () => {
    const dir = freshDir();
    const results = await Promise.all([1, 2, 3].map(() => ensureEmbeddedModel(dir, "tiny", { seed: 9 })));
    expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    expect(sha(await readFile(results[0]?.path ?? ""))).toBe(results[0]?.sha256);
    expect((await readdir(dir)).length).toBe(1);
  });

  test("a cache directory that cannot be created gives a message without the absolute path", async () => {
    const file = join(root, `plain-file-${n++}`);
    await writeFile(file, "x");
    const err = await ensureEmbeddedModel(join(file, "sub"), "tiny").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/cache directory.*ENOTDIR|ENOTDIR.*cache directory/);
    expect((err as Error).message).not.toContain(root);
  });

  test("an unknown preset is rejected with the valid names", async () => {
    await expect(ensureEmbeddedModel(freshDir(), "huge" as "tiny")).rejects.toThrow(/tiny, small, medium/);
  });
});
