/** The environment section of a report: machine, Node, OS, git commit, model and configuration. */
import { execFile } from "node:child_process";
import os from "node:os";
import type { EnvironmentInfo, ModelInfo } from "../report/types.js";

export function gitCommit(cwd: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", ["rev-parse", "HEAD"], { cwd, timeout: 3000 }, (err, stdout) => {
      const sha = stdout?.trim() ?? "";
      resolve(err || !/^[0-9a-f]{40}$/.test(sha) ? null : sha);
    });
  });
}

export async function collectEnvironment(input: { cwd: string; model: ModelInfo | null; config: Record<string, unknown> }): Promise<EnvironmentInfo> {
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    gitCommit: await gitCommit(input.cwd),
    model: input.model,
    config: input.config,
  };
}
