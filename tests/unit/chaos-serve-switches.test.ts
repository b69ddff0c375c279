/** `gauntlet serve` refuses a malformed test-only chaos switch before it loads anything (exit 2). */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runServe } from "../../src/server/main.js";

// A port already taken: if the switches were not checked first, serve would stop at the port check
// (also exit 2, but without naming the variable), so no server ever starts here.
let busy: net.Server;
let port = 0;
beforeAll(async () => {
  busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  port = (busy.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => busy.close(() => r())));

async function serve(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  // UV_THREADPOOL_SIZE set: serve never relaunches itself (src/cli/engine.ts) from inside the test worker.
  const code = await runServe(["--port", String(port), "--host", "127.0.0.1"], { UV_THREADPOOL_SIZE: "4", ...env }, { stdout: () => undefined, stderr: (l) => err.push(l) });
  return { code, stderr: err.join("\n") };
}

describe("serve: chaos debug switches", () => {
  test("a malformed GAUNTLET_DEBUG_ENGINE_FAULT is a usage error naming the variable", async () => {
    const r = await serve({ GAUNTLET_DEBUG_ENGINE_FAULT: "explode" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GAUNTLET_DEBUG_ENGINE_FAULT/);
  });

  test("a malformed GAUNTLET_DEBUG_CACHE_FS_FAULT is a usage error naming the variable", async () => {
    const r = await serve({ GAUNTLET_DEBUG_CACHE_FS_FAULT: "eio-at:zero" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GAUNTLET_DEBUG_CACHE_FS_FAULT/);
  });
});
