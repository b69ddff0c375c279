/**
 * `gauntlet engine build|status`: the optional optimized engine (node-llama-cpp's bundled llama.cpp
 * built on this machine with OpenMP and native CPU flags), and the process set-up it needs.
 *
 * relaunchForThreadPlan(): UV_THREADPOOL_SIZE only works when set before Node starts (the libuv
 * pool is created on first use, and module loading already used it), so `gauntlet serve` re-runs
 * itself once with it set when its thread plan wants a pool size and the variable is unset.
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { addonFiles, applyAddonPatch, revertAddonPatch } from "../engine/addon-patch.js";
import { detectInstalledEngineBuild, engineBuildCommand, nodeLlamaCppCliPath, nodeLlamaCppPackageDir, type DetectedBuild } from "../engine/engine-build.js";
import { planThreads, requestedThreadsFrom, type ThreadPlan } from "../engine/thread-plan.js";

export interface EngineIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const USAGE = `Usage: gauntlet engine <build|status> [--slots N] [--dry-run] [--no-patch]

  build    build node-llama-cpp's bundled llama.cpp for this CPU (OpenMP, native flags), offline;
           about 4 minutes on 2 cores, needs cmake and a C++ compiler (apt-get install cmake g++).
           The addon gets two extra calls: generateTokens runs the token loop natively (no libuv
           hand-off per generated token; the stock addon needs two) and decodeBatchAndSampleToken
           decodes the prompt and samples in one; --no-patch builds the stock addon.
           'gauntlet serve' then uses it, with the cores split between the slots.
  status   say which engine build 'gauntlet serve' would load and its thread plan for --slots N`;

/** Env marker of the re-run child, so it never re-runs itself again. */
const RELAUNCHED = "GAUNTLET_RELAUNCHED";

function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

function describe(slots: number, io: EngineIo): void {
  const build = detectInstalledEngineBuild();
  const plan = planThreads({ build: build.kind, cores: availableParallelism(), slots });
  io.stdout(`engine build: ${build.kind === "local" ? `local (${build.folder})` : "npm prebuilt binaries"}${build.building ? " — a build is running now" : ""}`);
  io.stdout(`thread plan for ${slots} slot(s): ${plan.summary}`);
  for (const w of plan.warnings) io.stdout(`warning: ${w}`);
  if (build.kind === "prebuilt") io.stdout("run 'gauntlet engine build' for the optimized engine (OpenMP, several threads per slot)");
}

function hasTool(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

export async function runEngineCommand(argv: readonly string[], io: EngineIo): Promise<number> {
  const [sub, ...rest] = argv;
  const slots = Number(flagValue(rest, "slots") ?? "1");
  if (!Number.isInteger(slots) || slots < 1) {
    io.stderr(`gauntlet engine: --slots must be a whole number >= 1\n\n${USAGE}`);
    return 2;
  }
  if (sub === "status") {
    describe(slots, io);
    return 0;
  }
  if (sub !== "build") {
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      io.stdout(USAGE);
      return sub === undefined ? 2 : 0;
    }
    io.stderr(`gauntlet engine: unknown subcommand '${sub}'\n\n${USAGE}`);
    return 2;
  }

  const cmd = engineBuildCommand({ nodePath: process.execPath, cliPath: nodeLlamaCppCliPath() });
  if (rest.includes("--dry-run")) {
    io.stdout([cmd.command, ...cmd.args].join(" "));
    return 0;
  }
  const missing = [hasTool("cmake", ["--version"]) ? null : "cmake", hasTool("c++", ["--version"]) ? null : "a C++ compiler (g++)"].filter((x) => x);
  if (missing.length > 0) {
    io.stderr(`gauntlet engine build: needs ${missing.join(" and ")}; install them (e.g. apt-get install cmake g++) and retry`);
    return 2;
  }
  const files = addonFiles(nodeLlamaCppPackageDir());
  const patch = rest.includes("--no-patch") ? ({ status: "not-applicable", reason: "--no-patch" } as const) : applyAddonPatch(files);
  io.stdout(
    patch.status === "not-applicable"
      ? `gauntlet: building the stock addon (the one-hand-off decode+sample patch is not applied: ${patch.reason})`
      : "gauntlet: the addon gets generateTokens and decodeBatchAndSampleToken (the token loop runs natively: no libuv hand-off per generated token instead of two; src/engine/addon-patch.ts)",
  );
  io.stdout("gauntlet: building llama.cpp for this CPU from the source bundled with node-llama-cpp (offline, a few minutes);");
  io.stdout("while it runs, every process that loads the engine waits for the build to finish.");
  const build = () =>
    new Promise<number>((resolve) => {
      const child = spawn(cmd.command, cmd.args, { stdio: "inherit", env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" } });
      child.on("error", () => resolve(1));
      child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
  let code = await build();
  if (code !== 0 && patch.status !== "not-applicable" && revertAddonPatch(files)) {
    io.stderr(`gauntlet engine build: the patched build failed (exit ${code}); building the stock addon instead`);
    code = await build();
  }
  if (code !== 0) {
    io.stderr(`gauntlet engine build: the build failed (exit ${code}); 'gauntlet serve' keeps using the prebuilt binaries`);
    return 1;
  }
  describe(slots, io);
  return 0;
}

export type Relaunch = { relaunched: true; exitCode: number } | { relaunched: false; warning?: string };

/**
 * When the plan needs a libuv pool size the process did not start with, runs the same command again
 * in a child with UV_THREADPOOL_SIZE set and waits for it (signals are passed on once; the child
 * stops when this process goes away). Returns relaunched: false in the child, or when nothing is needed.
 */
export async function relaunchForThreadPlan(plan: ThreadPlan, env: Readonly<Record<string, string | undefined>>): Promise<Relaunch> {
  if (env[RELAUNCHED] === "1") {
    // In the child: stop when the parent goes away (its IPC channel closes).
    process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
    return { relaunched: false };
  }
  if (plan.uvThreadpoolSize === null) return { relaunched: false };
  const current = env.UV_THREADPOOL_SIZE ?? "";
  if (current !== "") {
    return current === String(plan.uvThreadpoolSize)
      ? { relaunched: false }
      : { relaunched: false, warning: `UV_THREADPOOL_SIZE=${current} is set; the thread plan wants ${plan.uvThreadpoolSize} (one libuv worker per slot)` };
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...openMpSettings(plan, env), ...env, UV_THREADPOOL_SIZE: String(plan.uvThreadpoolSize), [RELAUNCHED]: "1" },
    // Own process group: a terminal's Ctrl-C reaches this process only, and is passed on exactly once.
    detached: true,
    stdio: ["inherit", "inherit", "inherit", "ipc"],
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(signal);
  };
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const exitCode = await new Promise<number>((resolve) => {
    child.on("error", () => resolve(1));
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 1)));
  });
  for (const [s, h] of handlers) process.off(s, h);
  return { relaunched: true, exitCode };
}

/** The plan's OpenMP settings the environment does not set itself (a user's own value wins). */
export function openMpSettings(plan: ThreadPlan, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(plan.openMpEnv).filter(([k]) => (env[k] ?? "") === ""));
}

export type EngineProcess =
  | { relaunched: true; exitCode: number }
  | { relaunched: false; plan: ThreadPlan; build: DetectedBuild; notes: string[] };

/**
 * What `gauntlet serve` does before anything else: find the engine build, plan the threads (the
 * user's --threads/THREADS wins), and re-run itself with UV_THREADPOOL_SIZE when the plan needs it.
 */
export async function prepareEngineProcess(input: {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  slots: number;
  threads: number;
  gpu: false | string;
}): Promise<EngineProcess> {
  const build = detectInstalledEngineBuild(input.gpu === false ? false : input.gpu);
  const plan = planThreads({
    build: build.kind,
    cores: availableParallelism(),
    slots: input.slots,
    requestedThreads: requestedThreadsFrom(input.argv, input.env, input.threads),
  });
  const relaunch = await relaunchForThreadPlan(plan, input.env);
  if (relaunch.relaunched) return relaunch;
  // Not re-run (UV_THREADPOOL_SIZE was already right): libgomp loads with the engine, later, and reads them then.
  Object.assign(process.env, openMpSettings(plan, input.env));
  const notes = [...plan.warnings];
  if (relaunch.warning) notes.push(relaunch.warning);
  if (build.building) notes.push("a local engine build is running: loading the model waits until it finishes");
  return { relaunched: false, plan, build, notes };
}
