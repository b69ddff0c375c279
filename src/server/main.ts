/**
 * `gauntlet serve`: the only place that reads the environment and argv for the server, handles
 * signals and listens. Everything it builds comes from the same factories the tests use.
 */
import { join } from "node:path";
import { checkPortAvailable, describePortProblem, formatConfigErrors, loadConfig, renderHelp, wantsHelp } from "../config/index.js";
import type { FrozenConfig } from "../config/index.js";
import { embeddedModelId, ensureEmbeddedModel } from "../engine/embedded-model.js";
import { GgufFormatError } from "../engine/gguf/errors.js";
import { readGgufHeader } from "../engine/gguf/header.js";
import { createLlamaEngine } from "../engine/llama-engine.js";
import type { Engine } from "../engine/types.js";
import { ModelLoadError } from "../errors.js";
import { buildServer } from "./app.js";

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export interface ResolvedModel {
  path: string;
  id: string;
  embedded: boolean;
}

/** The model to serve: the user's (header checked first) or the embedded one, generated once. */
export async function resolveModel(config: FrozenConfig): Promise<ResolvedModel> {
  if (config.modelPath) {
    await readGgufHeader(config.modelPath);
    const base = config.modelPath.split(/[\\/]/).pop() ?? "model";
    return { path: config.modelPath, id: base.replace(/\.gguf$/i, ""), embedded: false };
  }
  const m = await ensureEmbeddedModel(join(config.cacheDir, "models"), config.modelPreset);
  return { path: m.path, id: embeddedModelId(config.modelPreset), embedded: true };
}

export function engineFor(config: FrozenConfig, model: ResolvedModel, onLog?: (level: "warn" | "error", msg: string) => void): Promise<Engine> {
  return createLlamaEngine({
    modelPath: model.path,
    modelId: model.id,
    slots: config.slots,
    threads: config.threads,
    contextSize: config.contextSize,
    gpu: config.gpu,
    onLog,
  });
}

/** Runs the server until a signal stops it; resolves with the process exit code. */
export async function runServe(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(`Usage: gauntlet serve [options]\n\nServes an OpenAI-compatible API on the embedded tiny model or a GGUF file.\n\n${renderHelp()}`);
    return 0;
  }
  const loaded = loadConfig({ env, argv });
  if (!loaded.ok) {
    io.stderr(formatConfigErrors(loaded.errors, loaded.warnings));
    return 2;
  }
  const config = loaded.config;
  for (const w of loaded.warnings) io.stderr(`warning: ${w}`);

  const port = await checkPortAvailable(config.host, config.port);
  if (!port.ok) {
    io.stderr(formatConfigErrors([describePortProblem(port, config.port)], []));
    return 2;
  }

  let model: ResolvedModel;
  try {
    model = await resolveModel(config);
  } catch (err) {
    if (err instanceof GgufFormatError) {
      io.stderr(formatConfigErrors([`--model: ${err.message}`], []));
      return 2;
    }
    throw err;
  }

  const enginePromise = engineFor(config, model);
  const app = await buildServer({
    settings: config,
    engine: enginePromise,
    logger: config.logLevel === "silent" ? false : { level: config.logLevel },
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
    { model: info.modelId, slots: info.slots, threads: info.threads, build: info.build, gpu: info.gpu, contextSize: info.contextSize },
    "model loaded",
  );
  io.stdout(
    `gauntlet: serving ${info.modelId}${model.embedded ? " (embedded)" : ""} on http://${config.host}:${boundPort} ` +
      `with ${info.slots} slot(s) x ${info.threads} thread(s), ${info.build} engine build; Ctrl-C stops`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr(`gauntlet: second ${signal}, exiting now`);
        resolve(130);
        return;
      }
      stopping = true;
      io.stdout(`gauntlet: ${signal} received, finishing in-flight requests (up to ${config.shutdownTimeoutMs} ms)`);
      app.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
