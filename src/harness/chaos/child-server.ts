/**
 * The server under chaos: `node bin/gauntlet.js serve` as a child process on a free loopback port,
 * with a cache directory the harness owns (so it survives kill -9 and restarts, and can be
 * corrupted from outside while the server is stopped). Its JSON log lines (stdout) are parsed and
 * kept, bounded, so cases can count the errors the server reported. Only this child (and the
 * process it relaunched itself as, see below) is ever signalled, by its pid.
 *
 * `gauntlet serve` may relaunch itself once (src/cli/engine.ts: a child with UV_THREADPOOL_SIZE set,
 * which stops gracefully when its parent goes away). A SIGKILL of the spawned pid would then be a
 * graceful stop of the real server, not a crash: the serving process is found under the spawned
 * one in /proc, and kill9() kills that one.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { freePort } from "../runner/bundled-server.js";
import { getJson } from "./http-client.js";

export interface ChaosServerConfig {
  binPath: string;
  cacheDir: string;
  /** Extra `gauntlet serve` arguments. */
  args: readonly string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

export interface LogEntry {
  /** Harness monotonic time the line arrived. */
  at: number;
  level: number | null;
  msg: string;
  code: string | null;
  reason: string | null;
}

export interface ChaosServer {
  /** The process that serves: the spawned one, or the child it relaunched itself as. */
  pid: number;
  /** The process the harness spawned. */
  spawnedPid: number;
  baseUrl: string;
  /** Monotonic time (ms) from spawn to /health/ready answering 200. */
  startMs: number;
  /** performance.now() at the spawn. */
  spawnedAt: number;
  alive(): boolean;
  /** Log entries so far (the last 5000). */
  logs(): readonly LogEntry[];
  /** Entries whose message contains `msg` (and whose code is `code`, when given). */
  countLogs(msg: string, code?: string): number;
  /** The last 4 KB of output, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null after a signal). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL of the serving process, and waits until it and the spawned one are gone. */
  kill9(): Promise<void>;
}

const MAX_LOGS = 5000;
const TAIL = 4096;

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

const exists = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * The child of `pid` running the same `gauntlet serve` command line (Linux /proc), or `pid` itself
 * when there is none (no relaunch) or /proc cannot tell. Other children (e.g. tsx's esbuild
 * service) are not it.
 */
export async function servingProcess(pid: number): Promise<number> {
  let own: string;
  try {
    own = await readFile(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return pid;
  }
  let names: string[];
  try {
    names = (await readdir("/proc")).filter((n) => /^\d+$/.test(n));
  } catch {
    return pid;
  }
  for (const name of names) {
    try {
      const stat = await readFile(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && (await readFile(`/proc/${name}/cmdline`, "utf8")) === own) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return pid;
}

function parseLine(line: string): LogEntry | null {
  if (!line.startsWith("{")) return null;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.msg !== "string") return null;
    return {
      at: performance.now(),
      level: typeof o.level === "number" ? o.level : null,
      msg: o.msg,
      code: typeof o.code === "string" ? o.code : null,
      reason: typeof o.reason === "string" ? o.reason : null,
    };
  } catch {
    return null;
  }
}

export async function startChaosServer(c: ChaosServerConfig): Promise<ChaosServer> {
  const port = await freePort();
  const args = ["serve", "--host", "127.0.0.1", "--port", String(port), "--cache-dir", c.cacheDir, "--log-level", "warn", ...c.args];
  const began = performance.now();
  const child = spawn(process.execPath, [c.binPath, ...args], { env: c.env, stdio: ["ignore", "pipe", "pipe"] });
  const entries: LogEntry[] = [];
  let output = "";
  let partial = "";
  child.stdout?.on("data", (b: Buffer) => {
    const text = partial + b.toString("utf8");
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const e = parseLine(line);
      if (e) {
        entries.push(e);
        if (entries.length > MAX_LOGS) entries.shift();
      }
    }
    output = (output + b.toString("utf8")).slice(-TAIL);
  });
  child.stderr?.on("data", (b: Buffer) => {
    output = (output + b.toString("utf8")).slice(-TAIL);
  });
  let serving = child.pid ?? -1;
  const alive = () => child.exitCode === null && child.signalCode === null && (serving === child.pid || exists(serving));
  const kill9 = async () => {
    if (serving !== child.pid && exists(serving)) process.kill(serving, "SIGKILL");
    else if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    // The spawned process exits once the one it relaunched is gone; make sure of it.
    if (!(await waitExit(child, 10_000))) child.kill("SIGKILL");
    await waitExit(child, 5000);
    for (let i = 0; i < 200 && exists(serving); i++) await new Promise((r) => setTimeout(r, 25));
  };
  const stop = async (graceMs = 15_000): Promise<number | null> => {
    if (alive()) {
      child.kill("SIGTERM");
      if (!(await waitExit(child, graceMs))) await kill9();
    }
    return child.exitCode;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = began + (c.startTimeoutMs ?? 120_000);
  try {
    if (child.pid === undefined) throw new Error("the server process could not be spawned");
    for (;;) {
      if (!alive()) throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.trim()}`);
      if ((await getJson(baseUrl, "/health/ready", 1000)).status === 200) break;
      if (performance.now() > deadline) throw new Error(`the server was not ready within ${c.startTimeoutMs ?? 120_000} ms:\n${output.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    serving = await servingProcess(child.pid);
  } catch (err) {
    await kill9();
    throw err;
  }
  return {
    pid: serving,
    spawnedPid: child.pid,
    baseUrl,
    startMs: performance.now() - began,
    spawnedAt: began,
    alive,
    logs: () => entries,
    countLogs: (msg, code) => entries.filter((e) => e.msg.includes(msg) && (code === undefined || e.code === code)).length,
    tail: () => output,
    stop,
    kill9,
  };
}
