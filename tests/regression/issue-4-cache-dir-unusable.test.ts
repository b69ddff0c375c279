/**
 * Issue 4: "the server always starts, whatever is in the cache directory". `gauntlet serve` (a real child
 * process, the embedded model) with a cache directory that is a regular file, or a directory nothing can
 * be written to: the embedded model goes to a temporary directory with a warning, the server serves without
 * the disk cache, and /health says degraded with the reason.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";

const BIN = join(process.cwd(), "bin", "gauntlet.js");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Served {
  child: ChildProcess;
  base: string;
  stderr: () => string;
}

let running: ChildProcess | null = null;
let cleanup: Array<() => void> = [];
afterEach(() => {
  running?.kill("SIGKILL");
  running = null;
  for (const c of cleanup.splice(0)) c();
});

/** Starts `gauntlet serve` on `cacheDir` and waits (bounded) until it is ready. */
async function serve(cacheDir: string): Promise<Served> {
  const port = await freePort();
  const env = { ...process.env };
  delete env.CACHE_DIR;
  const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), "--cache-dir", cacheDir, "--log-level", "warn"], { env, stdio: ["ignore", "pipe", "pipe"] });
  running = child;
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdout.on("data", () => undefined);
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (exited !== undefined) throw new Error(`gauntlet serve exited with ${exited}:\n${err}`);
    if (await fetch(`${base}/health/ready`).then((r) => r.status === 200, () => false)) return { child, base, stderr: () => err };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gauntlet serve was not ready within 60 s:\n${err}`);
}

const chat = async (base: string, content: string) => {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content }], max_tokens: 6, temperature: 0 }),
  });
  return { status: res.status, hit: res.headers.get("x-cache-hit"), text: ((await res.json()) as { choices?: Array<{ message: { content: string } }> }).choices?.[0]?.message.content };
};

async function expectServesDegraded(s: Served, dir: string): Promise<void> {
  expect(s.stderr()).toMatch(/warning: the cache directory cannot hold the embedded model \([A-Z]+\); it is kept in a temporary directory/);
  expect(s.stderr()).not.toContain(dir);
  const first = await chat(s.base, "hello from an unusable cache dir");
  expect(first).toMatchObject({ status: 200, hit: "false" });
  // The memory cache still works.
  expect(await chat(s.base, "hello from an unusable cache dir")).toEqual({ ...first, hit: "true" });
  const health = (await (await fetch(`${s.base}/health`)).json()) as { status: string; reasons: string[]; responseCache: { diskAvailable: boolean; diskError: string } };
  expect(health.status).toBe("degraded");
  expect(health.reasons.join(" ")).toMatch(/response cache's disk store cannot be used \([A-Z]+\)/);
  expect(health.responseCache.diskAvailable).toBe(false);
  expect(JSON.stringify(health)).not.toContain(dir);
}

/** Makes `dir` impossible to write into, even for root (chattr +i); undone by the returned function. */
function readOnly(dir: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  try {
    execFileSync("chattr", ["+i", dir], { stdio: "ignore" });
  } catch (err) {
    throw new Error(`running as root, this test needs chattr +i to make a read-only directory: ${(err as Error).message}`);
  }
  return () => execFileSync("chattr", ["-i", dir], { stdio: "ignore" });
}

describe("issue 4: gauntlet serve starts whatever the cache directory is", () => {
  test("a regular file as the cache directory: it starts on the embedded model, serves, and health says why the disk cache is off", async () => {
    const parent = mkdtempSync(join(tmpdir(), "gauntlet-cachedir-file-"));
    cleanup.push(() => rmSync(parent, { recursive: true, force: true }));
    const dir = join(parent, "cache");
    writeFileSync(dir, "I am a file, not a directory");
    await expectServesDegraded(await serve(dir), dir);
  }, 120_000);

  test("a read-only cache directory: it starts on the embedded model, serves, and health says why the disk cache is off", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gauntlet-cachedir-ro-"));
    const undo = readOnly(dir);
    cleanup.push(() => {
      undo();
      rmSync(dir, { recursive: true, force: true });
    });
    await expectServesDegraded(await serve(dir), dir);
  }, 120_000);
});
