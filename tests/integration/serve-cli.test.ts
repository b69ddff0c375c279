/** `gauntlet serve` as a user runs it: a real child process. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { writeTinyModel } from "../../src/engine/gguf/writer.js";
import { runCli } from "../helpers/run-cli.js";

const BIN = join(process.cwd(), "bin", "gauntlet.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const run = (args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Run> => runCli(args, { env, timeoutMs });

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe("gauntlet serve (child process)", () => {
  test("--help documents every option with its environment name", async () => {
    const r = await run(["serve", "--help"]);
    expect(r.code).toBe(0);
    for (const s of ["--port", "PORT", "--model", "MODEL_PATH", "--api-key", "API_KEY", "--slots", "--queue", "QUEUE_MAX", "--threads", "--timeout-ms", "REQUEST_TIMEOUT_MS", "--log-level", "--cache-dir"]) {
      expect(r.stdout).toContain(s);
    }
  });

  test("reports every configuration error at once and exits 2", async () => {
    const r = await run(["serve", "--port", "99999", "--slots", "x", "--cache", "maybe", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/4 configuration errors/);
    expect(r.stderr).toMatch(/--port must be an integer from 1 to 65535/);
    expect(r.stderr).toMatch(/--slots/);
    expect(r.stderr).toMatch(/--cache/);
    expect(r.stderr).toMatch(/--frobnicate/);
  });

  test("a port in use exits 2 and suggests a free one", async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port)));
    const r = await run(["serve", "--port", String(port)]);
    holder.close();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`port ${port} is already in use; try --port \\d+`));
  });

  test("a file that is not GGUF, and a truncated GGUF, are refused with a reason and no absolute path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gauntlet-cli-"));
    writeFileSync(join(dir, "notes.gguf"), "hello, I am not a model");
    const bad = await run(["serve", "--model", join(dir, "notes.gguf")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/GGUF/);
    expect(bad.stderr).not.toContain(dir);

    const model = writeTinyModel({ preset: "tiny" });
    writeFileSync(join(dir, "cut.gguf"), model.subarray(0, Math.floor(model.length / 2)));
    const cut = await run(["serve", "--model", join(dir, "cut.gguf"), "--port", String(await freePort())]);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/truncated|ends at byte/);
    expect(cut.stderr).not.toContain(dir);
  }, 60_000);

  test("a GGUF that passes the header check but that the engine refuses exits 2 with the engine's own reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gauntlet-cli-"));
    const model = writeTinyModel({ preset: "tiny" });
    // Same length, so every offset stays valid: only the architecture name changes.
    const at = model.indexOf("general.architecture");
    const value = model.indexOf("llama", at + "general.architecture".length);
    model.write("llamb", value, "latin1");
    writeFileSync(join(dir, "llamb.gguf"), model);
    const res = await run(["serve", "--model", join(dir, "llamb.gguf"), "--port", String(await freePort())]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown model architecture: 'llamb'/);
    expect(res.stderr).not.toMatch(/: failed to load model/);
    expect(res.stderr).not.toContain(dir);
  }, 60_000);

  test("serves the embedded model and shuts down gracefully on SIGTERM, finishing the request in flight", async () => {
    const port = await freePort();
    const cacheDir = mkdtempSync(join(tmpdir(), "gauntlet-cli-cache-"));
    const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), "--log-level", "silent"], {
      env: { ...process.env, CACHE_DIR: cacheDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    // The human-readable status lines go to stderr (stdout carries only JSON log lines).
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 300; i++) {
        const ok = await fetch(`${base}/health/ready`).then((r) => r.status === 200, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stderr).toMatch(/serving gauntlet-tiny \(embedded\)/);
      expect(stdout).not.toMatch(/serving gauntlet-tiny/);
      const inFlight = fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "finish me" }], max_tokens: 600 }),
      });
      // SIGTERM only once the request is really in flight on the server (a fixed delay races on a busy machine).
      for (let i = 0; i < 500; i++) {
        const h = (await fetch(`${base}/health`).then((r) => r.json(), () => null)) as { metrics?: { requestsInFlight?: number } } | null;
        if ((h?.metrics?.requestsInFlight ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill("SIGTERM");
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(600);
      expect(await exited).toBe(0);
      // Closed: nothing listens any more.
      await expect(fetch(`${base}/health`)).rejects.toThrow();
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
