import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { detectEngineBuild, engineBuildCommand, localBuildFolderName } from "../../src/engine/engine-build.js";

const LLAMA = "/x/node_modules/node-llama-cpp/llama";
const files = (...paths: string[]) => {
  const set = new Set(paths);
  return (p: string) => set.has(p);
};
const complete = (folder: string) => [
  join(LLAMA, "localBuilds", folder, "Release", "llama-addon.node"),
  join(LLAMA, "localBuilds", folder, "Release", "_nlcBuildMetadata.json"),
  join(LLAMA, "localBuilds", folder, "buildDone.status"),
];

describe("localBuildFolderName", () => {
  test("names the CPU build after the platform and architecture, as node-llama-cpp does", () => {
    expect(localBuildFolderName({ platform: "linux", arch: "x64", gpu: false })).toBe("linux-x64");
  });

  test("adds the GPU backend to the name when one is asked for", () => {
    expect(localBuildFolderName({ platform: "linux", arch: "x64", gpu: "cuda" })).toBe("linux-x64-cuda");
  });
});

describe("detectEngineBuild", () => {
  const base = { llamaDir: LLAMA, platform: "linux" as const, arch: "x64", gpu: false as const };

  test("reports the prebuilt binaries when there is no local build", () => {
    const b = detectEngineBuild({ ...base, exists: files() });
    expect(b.kind).toBe("prebuilt");
    expect(b.binary).toBeNull();
    expect(b.building).toBe(false);
  });

  test("reports the local build when its binary, metadata and done marker all exist", () => {
    const b = detectEngineBuild({ ...base, exists: files(...complete("linux-x64")) });
    expect(b.kind).toBe("local");
    expect(b.binary).toBe(join(LLAMA, "localBuilds", "linux-x64", "Release", "llama-addon.node"));
  });

  test("ignores a half-finished build that has no done marker", () => {
    const [addon, meta] = complete("linux-x64");
    expect(detectEngineBuild({ ...base, exists: files(addon!, meta!) }).kind).toBe("prebuilt");
  });

  test("says when a build is in progress (the engine would wait for its lock)", () => {
    const b = detectEngineBuild({ ...base, exists: files(join(LLAMA, "localBuilds", "linux-x64.lock")) });
    expect(b.building).toBe(true);
  });

  test("does not take a CUDA build for the CPU one", () => {
    expect(detectEngineBuild({ ...base, exists: files(...complete("linux-x64-cuda")) }).kind).toBe("prebuilt");
  });
});

describe("engineBuildCommand", () => {
  test("runs node-llama-cpp's own CLI to build the bundled llama.cpp source for the CPU", () => {
    const cmd = engineBuildCommand({ nodePath: "/usr/bin/node", cliPath: "/x/cli.js" });
    expect(cmd.command).toBe("/usr/bin/node");
    expect(cmd.args).toEqual(["/x/cli.js", "source", "download", "--gpu", "false"]);
  });
});
