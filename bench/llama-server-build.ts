/**
 * Builds llama.cpp's own server (llama-server) for side-by-side benchmarks, from the llama.cpp git
 * bundle that node-llama-cpp ships in its npm package: same release as the engine, no network.
 *
 * CPU-only cmake build of the llama-server target (web UI off, OpenMP and native CPU flags like the
 * engine's local build), in a directory OUTSIDE the repo (default ~/.cache/gauntlet/llama-server).
 * Nothing of it is ever committed. Run directly: `tsx bench/llama-server-build.ts`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type LlamaServerBuild = { ok: true; binary: string; commit: string; built: boolean } | { ok: false; reason: string };

export interface LlamaServerBuildOptions {
  /** Where the source clone and the build go (outside the repo). */
  cacheDir?: string;
  /** Progress lines (commands, cmake output tail). */
  log?: (line: string) => void;
  /** Build even when no binary exists yet (default true); false only reports what exists. */
  build?: boolean;
}

export function defaultLlamaServerCacheDir(): string {
  return join(homedir(), ".cache", "gauntlet", "llama-server");
}

/** node-llama-cpp's llama/ folder (holds gitRelease.bundle). */
export function nodeLlamaCppLlamaDir(): string {
  const entry = fileURLToPath(import.meta.resolve("node-llama-cpp"));
  return join(dirname(entry), "..", "llama");
}

function run(cmd: string, args: string[], cwd: string, log: (line: string) => void): Promise<{ code: number; tail: string }> {
  log(`$ ${cmd} ${args.join(" ")}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (b: Buffer) => {
      tail = (tail + b.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) => resolve({ code: -1, tail: String(err.message) }));
    child.on("close", (code) => resolve({ code: code ?? -1, tail }));
  });
}

/** CMake flags for a CPU-only llama-server: no curl/openssl, no web UI download, no tests or examples. */
export const LLAMA_SERVER_CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DGGML_NATIVE=ON",
  "-DGGML_OPENMP=ON",
  "-DGGML_CUDA=OFF",
  "-DGGML_VULKAN=OFF",
  "-DGGML_METAL=OFF",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_BUILD_SERVER=ON",
  "-DLLAMA_BUILD_TOOLS=ON",
];

export async function ensureLlamaServer(opts: LlamaServerBuildOptions = {}): Promise<LlamaServerBuild> {
  const log = opts.log ?? (() => undefined);
  const cacheDir = opts.cacheDir ?? defaultLlamaServerCacheDir();
  const bundle = join(nodeLlamaCppLlamaDir(), "gitRelease.bundle");
  if (!existsSync(bundle)) return { ok: false, reason: "node-llama-cpp's llama.cpp git bundle (llama/gitRelease.bundle) is missing" };
  const src = join(cacheDir, "src");
  const buildDir = join(cacheDir, "build");
  const binary = join(buildDir, "bin", "llama-server");
  const marker = join(cacheDir, "built-commit.txt");

  const heads = await run("git", ["bundle", "list-heads", bundle], cacheDir.startsWith("/") ? "/" : ".", log);
  const commit = heads.code === 0 ? (heads.tail.trim().split(/\s+/)[0] ?? "") : "";
  if (!/^[0-9a-f]{40}$/.test(commit)) return { ok: false, reason: `cannot read the git bundle (git bundle list-heads failed: ${heads.tail.trim().slice(-200)})` };

  if (existsSync(binary) && existsSync(marker) && readFileSync(marker, "utf8").trim() === commit) return { ok: true, binary, commit, built: false };
  if (opts.build === false) return { ok: false, reason: "llama-server is not built yet (run: npx tsx bench/llama-server-build.ts)" };

  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(join(src, ".git"))) {
    const clone = await run("git", ["clone", "--quiet", bundle, src], cacheDir, log);
    if (clone.code !== 0) return { ok: false, reason: `git clone of the bundle failed: ${clone.tail.trim().slice(-300)}` };
  }
  const co = await run("git", ["-c", "advice.detachedHead=false", "checkout", "--quiet", commit], src, log);
  if (co.code !== 0) return { ok: false, reason: `git checkout ${commit} failed: ${co.tail.trim().slice(-300)}` };

  const configure = await run("cmake", ["-S", src, "-B", buildDir, ...LLAMA_SERVER_CMAKE_FLAGS], cacheDir, log);
  if (configure.code !== 0) return { ok: false, reason: `cmake configure failed: ${configure.tail.trim().slice(-600)}` };
  const jobs = String(Math.max(1, cpus().length));
  const build = await run("cmake", ["--build", buildDir, "--target", "llama-server", "-j", jobs], cacheDir, log);
  if (build.code !== 0 || !existsSync(binary)) return { ok: false, reason: `cmake build of llama-server failed: ${build.tail.trim().slice(-600)}` };
  writeFileSync(marker, `${commit}\n`);
  return { ok: true, binary, commit, built: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const result = await ensureLlamaServer({ log: (l) => process.stdout.write(`${l}\n`) });
  if (result.ok) process.stdout.write(`llama-server ${result.built ? "built" : "already built"} at ${result.binary} (commit ${result.commit.slice(0, 10)}, ${Math.round((Date.now() - started) / 1000)} s)\n`);
  else {
    process.stderr.write(`llama-server could not be built: ${result.reason}\n`);
    process.exitCode = 1;
  }
}
