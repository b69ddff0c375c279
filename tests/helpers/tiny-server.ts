/** Builds the real server on the real embedded tiny model, as the binary does. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { defaultConfig } from "../../src/config/index.js";
import type { DeepPartial, Config } from "../../src/config/index.js";
import { embeddedModelId, ensureEmbeddedModel } from "../../src/engine/embedded-model.js";
import { createLlamaEngine } from "../../src/engine/llama-engine.js";
import type { Engine } from "../../src/engine/types.js";
import { buildServer, type BuildServerOptions } from "../../src/server/app.js";

/** Shared across test files and runs: generated once (atomic write), checked by checksum after. */
export const TEST_MODEL_DIR = join(tmpdir(), "gauntlet-test-models");

export async function tinyModelPath(): Promise<string> {
  return (await ensureEmbeddedModel(TEST_MODEL_DIR, "tiny")).path;
}

export async function startTinyEngine(opts: { slots?: number; contextSize?: number } = {}): Promise<Engine> {
  return createLlamaEngine({
    modelPath: await tinyModelPath(),
    modelId: embeddedModelId("tiny"),
    slots: opts.slots ?? 2,
    threads: 1,
    contextSize: opts.contextSize ?? 2048,
    gpu: false,
  });
}

export interface TestServer {
  app: FastifyInstance;
  engine: Engine;
  config: Config;
  /** Base URL when listening on a real socket. */
  url: string;
}

export async function startTestServer(
  overrides: DeepPartial<Config> = {},
  opts: { listen?: boolean; engine?: Engine; server?: Partial<BuildServerOptions> } = {},
): Promise<TestServer> {
  // A fresh cache directory per server, so tests never see each other's cached answers.
  const config = defaultConfig({ port: 0, cacheDir: mkdtempSync(join(tmpdir(), "gauntlet-test-cache-")), ...overrides }) as Config;
  const engine = opts.engine ?? (await startTinyEngine({ slots: config.slots, contextSize: config.contextSize }));
  const app = await buildServer({ settings: config, engine, ownsEngine: opts.engine === undefined, ...opts.server });
  let url = "";
  if (opts.listen) {
    await app.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.address();
    url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  }
  return { app, engine, config, url };
}

export const userMessage = (content: string) => [{ role: "user", content }];
