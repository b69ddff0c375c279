/**
 * Which native build of llama.cpp the engine will run, found without loading it: node-llama-cpp's
 * getLlama() prefers a finished local build (llama/localBuilds/<platform>-<arch>[-gpu]) over the
 * npm prebuilt binaries. `gauntlet engine build` makes that local build (OpenMP, native CPU flags).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineBuildKind } from "./thread-plan.js";

export interface BuildTarget {
  platform: string;
  arch: string;
  /** false = CPU only. */
  gpu: false | string;
}

export interface DetectedBuild {
  kind: EngineBuildKind;
  /** The local build folder name getLlama looks for. */
  folder: string;
  /** Path of the local build's addon, or null. */
  binary: string | null;
  /** A build holds its lock right now: loading the engine would wait until it ends. */
  building: boolean;
}

/** The folder name node-llama-cpp gives a local build without custom cmake options. */
export function localBuildFolderName(target: BuildTarget): string {
  const parts = [target.platform, target.arch];
  if (target.gpu !== false && target.gpu !== "auto") parts.push(target.gpu);
  return parts.join("-");
}

export function detectEngineBuild(input: BuildTarget & { llamaDir: string; exists: (path: string) => boolean }): DetectedBuild {
  const folder = localBuildFolderName(input);
  const root = join(input.llamaDir, "localBuilds");
  const dir = join(root, folder);
  const binary = join(dir, "Release", "llama-addon.node");
  const done = [binary, join(dir, "Release", "_nlcBuildMetadata.json"), join(dir, "buildDone.status")].every((p) => input.exists(p));
  const building = input.exists(`${dir}.lock`);
  return { kind: done ? "local" : "prebuilt", folder, binary: done ? binary : null, building };
}

/** node-llama-cpp's package directory (resolved from its ESM entry point). */
export function nodeLlamaCppPackageDir(): string {
  return join(dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))), "..");
}

/** The build this machine would load for the CPU, looked up on the real file system. */
export function detectInstalledEngineBuild(gpu: false | string = false): DetectedBuild {
  return detectEngineBuild({
    llamaDir: join(nodeLlamaCppPackageDir(), "llama"),
    platform: process.platform,
    arch: process.arch,
    gpu,
    exists: existsSync,
  });
}

/**
 * The command that builds the llama.cpp source bundled in node-llama-cpp's npm package (a git
 * bundle, so offline) for the CPU, with OpenMP and native CPU flags: `node-llama-cpp source download
 * --gpu false` run through the package's own CLI.
 */
export function engineBuildCommand(input: { nodePath: string; cliPath: string }): { command: string; args: string[] } {
  return { command: input.nodePath, args: [input.cliPath, "source", "download", "--gpu", "false"] };
}

/** node-llama-cpp's CLI script. */
export function nodeLlamaCppCliPath(): string {
  return join(nodeLlamaCppPackageDir(), "dist", "cli", "cli.js");
}
