import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import { FaultInjectingFs } from "../../src/cache/fault-injecting-fs.js";
import { removeStaleModelDirs } from "../../src/cache/stale-model-dirs.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "gauntlet-stale-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modelDir(name: string, files: Record<string, number>): Promise<void> {
  await mkdir(join(root, name, "quarantine"), { recursive: true });
  for (const [f, size] of Object.entries(files)) await writeFile(join(root, name, f), Buffer.alloc(size, 1));
}

describe("removeStaleModelDirs", () => {
  test("removes the record directories of other models, counts them, and keeps the current one and anything not ours", async () => {
    await modelDir("aaaaaaaaaaaaaaaa", { [`${"1".repeat(64)}.rec`]: 100 });
    await modelDir("bbbbbbbbbbbbbbbb", { [`${"2".repeat(64)}.rec`]: 200, [`quarantine/x.rec.truncated`]: 50 });
    await modelDir("cccccccccccccccc", { [`${"3".repeat(64)}.rec`]: 300 });
    await mkdir(join(root, "my-notes"));
    await writeFile(join(root, "README"), "keep me");
    const result = await removeStaleModelDirs({ fs: nodeCacheFs, root, keep: "cccccccccccccccc" });
    expect(result).toEqual({ ok: true, dirs: 2, files: 3, bytes: 350 });
    expect((await readdir(root)).sort()).toEqual(["README", "cccccccccccccccc", "my-notes"]);
  });

  test("nothing to remove is a success with zero counts; a missing root too", async () => {
    await modelDir("cccccccccccccccc", {});
    expect(await removeStaleModelDirs({ fs: nodeCacheFs, root, keep: "cccccccccccccccc" })).toEqual({ ok: true, dirs: 0, files: 0, bytes: 0 });
    expect(await removeStaleModelDirs({ fs: nodeCacheFs, root: join(root, "nope"), keep: "cccccccccccccccc" })).toEqual({ ok: true, dirs: 0, files: 0, bytes: 0 });
  });

  test("a failure is reported with its code and no path, never thrown", async () => {
    await modelDir("aaaaaaaaaaaaaaaa", { [`${"1".repeat(64)}.rec`]: 100 });
    const fs = new FaultInjectingFs(nodeCacheFs);
    fs.inject({ op: "rm", code: "EACCES" });
    const result = await removeStaleModelDirs({ fs, root, keep: "cccccccccccccccc" });
    expect(result).toMatchObject({ ok: false, dirs: 0, error: { code: "EACCES", op: "prune" } });
    expect(result.ok ? "" : result.error.message).not.toContain(root);
  });

  test("a file system without rm leaves old directories in place and says so", async () => {
    await modelDir("aaaaaaaaaaaaaaaa", {});
    const { rm: _rm, ...withoutRm } = nodeCacheFs;
    const result = await removeStaleModelDirs({ fs: withoutRm, root, keep: "cccccccccccccccc" });
    expect(result).toMatchObject({ ok: false, error: { code: "ENOSYS" } });
    expect(await readdir(root)).toEqual(["aaaaaaaaaaaaaaaa"]);
  });
});
