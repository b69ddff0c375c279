/**
 * The server under chaos: `node bin/gauntlet.js serve` as a child process on a free loopback port,
 * with a cache directory the harness owns (so it survives kill -9 and restarts, and can be
 * corrupted from outside while the server is stopped). Its JSON log lines (stdout) are parsed and
 * kept, bounded, so cases can count the errors the server reported. Only this child is ever
 * signalled, by its pid.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
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
  pid: number;
  baseUrl: string;
  /** Monotonic time (ms) from spawn to /health/ready answering 200. */
  startMs: number;
  alive(): boolean;
  /** Log entries so far (the last 5000). */
  logs(): readonly LogEntry[];
  /** Entries whose message contains `msg` (and whose code is `code`, when given). */
  countLogs(msg: string, code?: string): number;
  /** The last 4 KB of output, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null after a signal). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, and waits until the process is gone. */
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
  const alive = () => child.exitCode === null && child.signalCode === null;
  const kill9 = async () => {
    if (alive()) child.kill("SIGKILL");
    await waitExit(child, 10_000);
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
  } catch (err) {
    await kill9();
    throw err;
  }
  return {
    pid: child.pid,
    baseUrl,
    startMs: performance.now() - began,
    alive,
    logs: () => entries,
    countLogs: (msg, code) => entries.filter((e) => e.msg.includes(msg) && (code === undefined || e.code === code)).length,
    tail: () => output,
    stop,
    kill9,
  };
}
