/**
 * Starts and stops the servers the engine benchmark compares, each in its own process on
 * 127.0.0.1: llama.cpp's llama-server and our `gauntlet serve`. Readiness = GET /health answers 200.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  /** The last lines the process wrote (start-up log, errors). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`not ready after ${timeoutMs} ms`);
}

async function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, port: number, timeoutMs: number): Promise<RunningServer> {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!killed) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    await waitReady(url, child, timeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${name} did not start: ${(err as Error).message}\n${out.slice(-1500)}`);
  }
  return { name, url, pid: child.pid ?? -1, output: () => out, stop };
}

export interface LlamaServerArgs {
  binary: string;
  modelPath: string;
  slots: number;
  threads: number;
  /** Context per slot (llama-server splits -c between its -np slots). */
  contextSize: number;
}

/** llama-server on 127.0.0.1 with -nr (its AMX repack path crashes on q8_0 here), flash attention off like ours. */
export async function startLlamaServer(a: LlamaServerArgs): Promise<RunningServer> {
  const port = await freePort();
  const args = [
    "-m", a.modelPath,
    "--host", "127.0.0.1",
    "--port", String(port),
    "-np", String(a.slots),
    "-c", String(a.contextSize * a.slots),
    "-t", String(a.threads),
    "-tb", String(a.threads),
    "-nr",
    "-fa", "off",
    "--no-webui",
  ];
  return launch("llama-server", a.binary, args, { ...process.env, LLAMA_ARG_LOG_DISABLE: undefined }, port, 60_000);
}

export interface GauntletServeArgs {
  repoRoot: string;
  modelPath: string;
  slots: number;
  /** Undefined = the server's own thread plan. */
  threads?: number;
  contextSize: number;
  /** Extra environment (e.g. UV_THREADPOOL_SIZE) for the server process. */
  env?: Record<string, string | undefined>;
}

/** `gauntlet serve` exactly as a user starts it (bin/gauntlet.js), response cache off so every request generates. */
export async function startGauntletServe(a: GauntletServeArgs): Promise<RunningServer> {
  const port = await freePort();
  const args = [
    join(a.repoRoot, "bin", "gauntlet.js"),
    "serve",
    "--host", "127.0.0.1",
    "--port", String(port),
    "--model", a.modelPath,
    "--slots", String(a.slots),
    "--context-size", String(a.contextSize),
    "--log-level", "warn",
    "--no-cache",
    ...(a.threads === undefined ? [] : ["--threads", String(a.threads)]),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ...a.env };
  if (a.threads === undefined) delete env.THREADS;
  return launch("gauntlet", process.execPath, args, env, port, 60_000);
}
