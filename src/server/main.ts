/**
 * `gauntlet serve`: the only place that reads the environment and argv for the server, handles
 * signals and listens. Everything it builds comes from the same factories the tests use.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareEngineProcess } from "../cli/engine.js";
import { checkPortAvailable, describePortProblem, formatConfigErrors, loadConfig, renderHelp, wantsHelp } from "../config/index.js";
import type { FrozenConfig } from "../config/index.js";
import { embeddedModelId, ensureEmbeddedModel } from "../engine/embedded-model.js";
import { parseFaultSettings, withFaults } from "../engine/faulty-engine.js";
import { GgufFormatError } from "../engine/gguf/errors.js";
import { readGgufHeader } from "../engine/gguf/header.js";
import { createLlamaEngine } from "../engine/llama-engine.js";
import { generationPathWarnings } from "../engine/llama-engine-slots.js";
import type { Engine } from "../engine/types.js";
import { ModelLoadError } from "../errors.js";
import { readChaosSwitches } from "../harness/chaos/serve-switches.js";
import { buildServer } from "./app.js";

/** How long past --shutdown-timeout-ms a stop may take (aborted generations, engine close) before exiting anyway. */
const HARD_STOP_GRACE_MS = 10_000;

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export interface ResolvedModel {
  path: string;
  id: string;
  embedded: boolean;
}

/**
 * The model to serve: the user's (header checked first) or the embedded one, generated once into
 * cacheDir/models. When the cache directory cannot hold it (a file, read-only, full), the embedded model goes
 * to a temporary directory instead, with a warning: the server always starts, whatever the cache directory is.
 */
export async function resolveModel(config: FrozenConfig, warn: (message: string) => void = () => undefined): Promise<ResolvedModel> {
  if (config.modelPath) {
    await readGgufHeader(config.modelPath);
    const base = config.modelPath.split(/[\\/]/).pop() ?? "model";
    return { path: config.modelPath, id: base.replace(/\.gguf$/i, ""), embedded: false };
  }
  let m: Awaited<ReturnType<typeof ensureEmbeddedModel>>;
  try {
    m = await ensureEmbeddedModel(join(config.cacheDir, "models"), config.modelPreset);
  } catch (err) {
    // A file-system error, as is or as the cause of ensureEmbeddedModel's own error.
    const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
    const code = typeof e?.code === "string" ? e.code : e?.cause?.code;
    if (typeof code !== "string") throw err;
    // The message names the error code only: the cache directory's path is never printed.
    warn(`the cache directory cannot hold the embedded model (${code}); it is kept in a temporary directory instead, and answers are cached in memory only until the cache directory can be used`);
    m = await ensureEmbeddedModel(join(tmpdir(), `gauntlet-models-${process.getuid?.() ?? "user"}`), config.modelPreset);
  }
  return { path: m.path, id: embeddedModelId(config.modelPreset), embedded: true };
}

export function engineFor(
  config: FrozenConfig,
  model: ResolvedModel,
  onLog?: (level: "warn" | "error", msg: string) => void,
  threads: number = config.threads,
  maxThreads: number = threads,
): Promise<Engine> {
  return createLlamaEngine({
    modelPath: model.path,
    modelId: model.id,
    slots: config.slots,
    threads,
    maxThreads,
    contextSize: config.contextSize,
    gpu: config.gpu,
    onLog,
  });
}

/** Runs the server until a signal stops it; resolves with the process exit code. */
export async function runServe(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(renderHelp().replace("\n", "\n\nServes an OpenAI-compatible API on the embedded tiny model or a GGUF file.\n"));
    return 0;
  }
  const loaded = loadConfig({ env, argv });
  if (!loaded.ok) {
    io.stderr(formatConfigErrors(loaded.errors, loaded.warnings));
    return 2;
  }
  const config = loaded.config;
  // Engine build and thread plan first: this may re-run the command with UV_THREADPOOL_SIZE set.
  const engineSetup = await prepareEngineProcess({ argv, env, slots: config.slots, threads: config.threads, gpu: config.gpu });
  if (engineSetup.relaunched) return engineSetup.exitCode;
  const { threadsPerSlot: threads, maxThreadsPerSlot: maxThreads } = engineSetup.plan;
  // The thread plan's own advice replaces the generic --threads warning (it knows the build).
  for (const w of loaded.warningDetails) if (w.code !== "threads-slow-prebuilt") io.stderr(`warning: ${w.message}`);
  for (const note of engineSetup.notes) io.stderr(`warning: ${note}`);
  // Test-only debug fault switch (the harness's intermittent-faults scenario); off unless set.
  const faults = parseFaultSettings(env);
  if (!faults.ok) {
    io.stderr(formatConfigErrors([faults.error], []));
    return 2;
  }
  const faultSettings = faults.settings;
  if (faultSettings) io.stderr(`warning: GAUNTLET_DEBUG_FAULT_RATE=${faultSettings.rate}: that fraction of generations fails on purpose (test only)`);
  // Test-only chaos switches (gauntlet chaos): GAUNTLET_DEBUG_ENGINE_FAULT, GAUNTLET_DEBUG_CACHE_FS_FAULT; off unless set.
  const chaos = readChaosSwitches(env);
  if (!chaos.ok) {
    io.stderr(formatConfigErrors([chaos.error], []));
    return 2;
  }
  for (const w of chaos.warnings) io.stderr(`warning: ${w}`);

  const port = await checkPortAvailable(config.host, config.port);
  if (!port.ok) {
    io.stderr(formatConfigErrors([describePortProblem(port, config.port)], []));
    return 2;
  }

  let model: ResolvedModel;
  try {
    model = await resolveModel(config, (message) => io.stderr(`warning: ${message}`));
  } catch (err) {
    if (err instanceof GgufFormatError) {
      io.stderr(formatConfigErrors([`--model: ${err.message}`], []));
      return 2;
    }
    throw err;
  }

  const loadedEngine = faultSettings ? engineFor(config, model, undefined, threads, maxThreads).then((e) => withFaults(e, faultSettings)) : engineFor(config, model, undefined, threads, maxThreads);
  const enginePromise = chaos.wrapEngine ? loadedEngine.then(chaos.wrapEngine) : loadedEngine;
  const app = await buildServer({
    settings: config,
    engine: enginePromise,
    logLevel: config.logLevel,
    logStream: process.stdout,
    // Test-only switch for soak runs; never set in production.
    debugLeakKbPerRequest: Number(env.GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST ?? 0) || 0,
    ...(chaos.cacheFs ? { cacheFs: chaos.cacheFs } : {}),
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const boundPort = typeof address === "object" && address ? address.port : config.port;

  let engine: Engine;
  try {
    engine = await enginePromise;
  } catch (err) {
    const reason = err instanceof ModelLoadError ? err.message : "the inference engine failed to start";
    io.stderr(formatConfigErrors([`--model: ${reason}`], []));
    await app.close();
    return 2;
  }
  const info = engine.info();
  app.log.info(
    { model: info.modelId, slots: info.slots, threads: info.threads, build: info.build, gpu: info.gpu, contextSize: info.contextSize, generationPath: info.generationPath, threadPlan: engineSetup.plan.summary },
    "model loaded",
  );
  // Human-readable lines go to stderr: stdout carries only the JSON log lines.
  io.stderr(
    `gauntlet: serving ${info.modelId}${model.embedded ? " (embedded)" : ""} on http://${config.host}:${boundPort} ` +
      `with ${info.slots} slot(s) x ${info.threads} thread(s), ${info.build} engine build; Ctrl-C stops`,
  );
  const handOffs =
    info.handOffsPerToken === undefined
      ? ""
      : info.handOffsPerToken === 0
        ? " (native token loop: no hand-off per token)"
        : ` (${info.handOffsPerToken} native hand-off${info.handOffsPerToken === 1 ? "" : "s"} per token)`;
  io.stderr(`gauntlet: engine: ${engineSetup.plan.summary}; ${info.generationPath ?? "evaluate"} generation path${handOffs}`);
  for (const w of generationPathWarnings(info)) io.stderr(`warning: ${w}`);
  if (info.build !== engineSetup.plan.build) {
    io.stderr(`warning: the ${engineSetup.plan.build} engine build was expected but the ${info.build} one loaded; the thread plan may not suit it`);
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr(`gauntlet: second ${signal}, exiting now`);
        resolve(130);
        return;
      }
      stopping = true;
      io.stderr(`gauntlet: ${signal} received, finishing in-flight requests (up to ${config.shutdownTimeoutMs} ms)`);
      // The server aborts what still runs at the bound; this is the last resort if the engine itself hangs on close.
      const hardStop = setTimeout(() => {
        io.stderr(`gauntlet: shutdown did not finish within ${config.shutdownTimeoutMs + HARD_STOP_GRACE_MS} ms (the engine did not close); exiting`);
        resolve(1);
      }, config.shutdownTimeoutMs + HARD_STOP_GRACE_MS);
      hardStop.unref();
      app.close().then(
        () => {
          clearTimeout(hardStop);
          resolve(0);
        },
        () => {
          clearTimeout(hardStop);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
