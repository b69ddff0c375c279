/** Runs the `gauntlet` binary as a child process, as a user would, and collects its exit code and output. */
import { spawn } from "node:child_process";
import { join } from "node:path";

export const BIN = join(process.cwd(), "bin", "gauntlet.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Killed (SIGKILL) and rejected past this bound (a liveness bound, not a timing check). */
  timeoutMs?: number;
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gauntlet ${args.join(" ")} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
