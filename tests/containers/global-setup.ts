/**
 * Global setup of the container tier: a Docker engine must answer (this tier fails, never skips, without one),
 * then the server image is built once from this checkout by docker/build-images.sh and its tag handed to the
 * test files through provide/inject.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { removeLabelledContainers } from "./helpers/docker-client.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Tag of the server image built for this run. */
    serverImage: string;
  }
}

const IMAGE = process.env.GAUNTLET_SERVER_IMAGE ?? "gauntlet-server:test";

interface BuildSummary {
  image: string;
  base: string;
  baseMs: number;
  appMs: number;
  totalMs: number;
  sizeBytes: number;
}

async function engineVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 20_000 });
    const version = stdout.trim();
    if (!version) throw new Error("docker info printed no server version");
    return version;
  } catch (err) {
    throw new Error(
      `The container tests need a Docker engine and none answers (${(err as Error).message.split("\n")[0]}). ` +
        "Start one with: bash scripts/docker-engine.sh start",
    );
  }
}

function buildImage(image: string): Promise<BuildSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["docker/build-images.sh", image], { stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0) {
        reject(new Error(`docker/build-images.sh exited with ${code}:\n${stderr.slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as BuildSummary);
      } catch {
        reject(new Error(`docker/build-images.sh printed no summary:\n${stdout.slice(-2000)}`));
      }
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = performance.now();
  const version = await engineVersion();
  const leftovers = await removeLabelledContainers();
  if (leftovers > 0) console.log(`[containers] removed ${leftovers} container(s) left by an interrupted run`);
  const summary = await buildImage(IMAGE);
  const mib = (summary.sizeBytes / 1048576).toFixed(0);
  console.log(
    `[containers] engine ${version}; image ${summary.image} (${mib} MiB) built in ${(summary.totalMs / 1000).toFixed(1)} s ` +
      `(base ${(summary.baseMs / 1000).toFixed(1)} s${summary.baseMs === 0 ? ", reused" : ""}, app ${(summary.appMs / 1000).toFixed(1)} s); ` +
      `global setup ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  project.provide("serverImage", summary.image);
  // Each file removes its own containers in afterAll/finally; this catches a worker that died first.
  return async () => {
    const left = await removeLabelledContainers();
    if (left > 0) console.warn(`[containers] teardown removed ${left} container(s) a test file left behind`);
  };
}
