/**
 * The bundled server as a child process: `node bin/gauntlet.js serve --host 127.0.0.1 --port <free>`
 * with its own cache directory (the embedded model is written there first, so its hash and size are
 * known), so its pid is known and its memory can be read from /proc. Stopped with SIGTERM, then
 * SIGKILL after a grace period; only this child, by its pid.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedModelId, ensureEmbeddedModel } from "../../engine/embedded-model.js";
import type { ModelInfo } from "../report/types.js";

export interface BundledServerOptions {
  /** Absolute path of bin/gauntlet.js. */
  binPath: string;
  /** Extra `gauntlet serve` arguments (after the harness's own). */
  args: readonly string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface BundledServer {
  /** The process that serves (the launcher's descendant when `serve` re-ran itself, e.g. for UV_THREADPOOL_SIZE). */
  pid: number;
  /** Every process of the server: the launched one and its descendants (for CPU accounting). */
  pids: number[];
  baseUrl: string;
  /** The embedded model's identity, or null when the arguments pick another model. */
  model: ModelInfo | null;
  /** The exact command line, for the report (without the temporary directory's path). */
  command: string[];
  stop(): Promise<number | null>;
}

const TAIL = 4000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

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

async function waitReady(baseUrl: string, child: ChildProcess, timeoutMs: number, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the bundled server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail()}`);
    }
    try {
      const res = await fetch(new URL("/health/ready", baseUrl), { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the bundled server was not ready within ${timeoutMs} ms:\n${tail()}`);
}

/** Descendants of a process, breadth first (Linux /proc/<pid>/task/<tid>/children); [] elsewhere. */
export async function descendants(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 64) {
    const p = queue.shift()!;
    let tasks: string[] = [];
    try {
      tasks = await readdir(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      const text = await readFile(`/proc/${p}/task/${t}/children`, "utf8").catch(() => "");
      for (const c of text.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out;
}

/** The deepest process of the tree whose command line runs `serve`: the one that listens and holds the model. */
export async function servingPid(root: number): Promise<{ pid: number; pids: number[] }> {
  const tree = [root, ...(await descendants(root))];
  let serving = root;
  for (const p of tree.slice(1)) {
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (cmd.split("\0").includes("serve")) serving = p;
  }
  return { pid: serving, pids: tree };
}

const picksOtherModel = (args: readonly string[]) => args.some((a) => /^--model(-preset)?(=|$)/.test(a));

export async function startBundledServer(o: BundledServerOptions): Promise<BundledServer> {
  const cacheDir = await mkdtemp(join(tmpdir(), "gauntlet-stress-"));
  let model: ModelInfo | null = null;
  if (!picksOtherModel(o.args)) {
    const m = await ensureEmbeddedModel(join(cacheDir, "models"), "tiny");
    model = { id: embeddedModelId("tiny"), sha256: m.sha256, sizeBytes: (await stat(m.path)).size };
  }
  const port = await freePort();
  const own = ["serve", "--host", "127.0.0.1", "--port", String(port), "--cache-dir", cacheDir, "--log-level", "warn"];
  const child = spawn(process.execPath, [o.binPath, ...own, ...o.args], { env: o.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (b: Buffer) => { output = (output + b.toString("utf8")).slice(-TAIL); };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await waitExit(child, o.stopTimeoutMs ?? 15_000))) {
        child.kill("SIGKILL");
        await waitExit(child, 5000);
      }
    }
    await rm(cacheDir, { recursive: true, force: true });
    return child.exitCode;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    if (child.pid === undefined) throw new Error("the bundled server could not be started");
    await waitReady(baseUrl, child, o.startTimeoutMs ?? 120_000, () => output.trim());
  } catch (err) {
    await stop();
    throw err;
  }
  const { pid, pids } = await servingPid(child.pid);
  return {
    pid,
    pids,
    baseUrl,
    model,
    command: ["node", "bin/gauntlet.js", ...own.map((a) => (a === cacheDir ? "<temporary cache dir>" : a)), ...o.args],
    stop,
  };
}

/** The parent's environment without anything that would change the child's configuration behind its flags. */
export function childEnvironment(parent: Readonly<Record<string, string | undefined>>, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined || k.startsWith("GAUNTLET_DEBUG_")) continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}
