import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkModelFile } from "../../src/config/model-file.js";
import { memoryFs } from "../../src/config/memory-fs.js";
import { nodeConfigFs } from "../../src/config/config-fs.js";

const CWD = "/srv/app";
const fs = memoryFs({
  "/srv/app/good.gguf": { kind: "file", head: "GGUF\x03\x00\x00\x00" },
  "/srv/app/models": { kind: "dir" },
  "/srv/app/locked.gguf": { kind: "file", head: "GGUF", unreadable: true },
  "/srv/app/model.bin": { kind: "file", head: "PK\x03\x04rest" },
  "/srv/app/tiny.gguf": { kind: "file", head: "GG" },
  "/opt/models/abs.bin": { kind: "file", head: "ABCD" },
});

describe("model-file", () => {
  test("a readable GGUF file resolves to its absolute path", () => {
    expect(checkModelFile("good.gguf", CWD, fs)).toEqual({ ok: true, path: "/srv/app/good.gguf" });
    expect(checkModelFile("./good.gguf", CWD, fs)).toEqual({ ok: true, path: "/srv/app/good.gguf" });
  });

  test("a missing file is reported with the relative path the user typed", () => {
    const result = checkModelFile("./nope.gguf", CWD, fs);
    expect(result).toEqual({
      ok: false,
      error:
        "model file './nope.gguf' does not exist; pass --model with the path to a .gguf file, or leave it out to use the embedded model",
    });
  });

  test("a directory is reported as such", () => {
    const result = checkModelFile("models", CWD, fs);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBe("model path 'models' is a directory; pass the .gguf file inside it");
  });

  test("an unreadable file is reported as a permission problem", () => {
    const result = checkModelFile("locked.gguf", CWD, fs);
    expect(!result.ok && result.error).toBe(
      "model file 'locked.gguf' cannot be read (permission denied); check its permissions",
    );
  });

  test("a file without the GGUF magic bytes is rejected", () => {
    const result = checkModelFile("model.bin", CWD, fs);
    expect(!result.ok && result.error).toMatch(/^model file 'model.bin' is not a GGUF file/);
  });

  test("a file shorter than the magic is rejected as not GGUF", () => {
    const result = checkModelFile("tiny.gguf", CWD, fs);
    expect(!result.ok && result.error).toMatch(/is not a GGUF file/);
  });

  test("an absolute path is never echoed", () => {
    const missing = checkModelFile("/opt/models/missing.gguf", CWD, fs);
    const notGguf = checkModelFile("/opt/models/abs.bin", CWD, fs);
    expect(!missing.ok && missing.error).toMatch(/^<model file> does not exist/);
    expect(!notGguf.ok && notGguf.error).toMatch(/^<model file> is not a GGUF file/);
    expect(JSON.stringify([missing, notGguf])).not.toContain("/opt");
  });

  test("a relative path that climbs out of cwd is still echoed as typed", () => {
    const result = checkModelFile("../x.gguf", CWD, fs);
    expect(!result.ok && result.error).toMatch(/^model file '..\/x.gguf' does not exist/);
  });

  describe("with the real file system", () => {
    const dir = mkdtempSync(join(tmpdir(), "gauntlet-config-"));
    writeFileSync(join(dir, "real.gguf"), Buffer.from("GGUF\x03\x00\x00\x00"));
    writeFileSync(join(dir, "fake.gguf"), Buffer.from("nope"));
    mkdirSync(join(dir, "sub"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("a real GGUF file passes and other kinds fail", () => {
      const fsys = nodeConfigFs();
      expect(checkModelFile("real.gguf", dir, fsys)).toEqual({ ok: true, path: join(dir, "real.gguf") });
      expect(checkModelFile("fake.gguf", dir, fsys).ok).toBe(false);
      expect(checkModelFile("sub", dir, fsys).ok).toBe(false);
      const missing = checkModelFile("absent.gguf", dir, fsys);
      expect(!missing.ok && missing.error).toMatch(/does not exist/);
    });
  });
});
