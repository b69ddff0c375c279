import { createServer } from "node:net";
import type { Server } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkPortAvailable, describePortProblem } from "../../src/config/port-check.js";

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
}

describe("port-check", () => {
  const holder = createServer();
  let heldPort = 0;

  beforeAll(async () => {
    heldPort = await listen(holder, 0);
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  test("a port held by another server is reported in use with a free suggestion", async () => {
    const result = await checkPortAvailable("127.0.0.1", heldPort);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe("EADDRINUSE");
    expect(result.suggestion).toBeGreaterThan(0);
    expect(result.suggestion).not.toBe(heldPort);
    const suggested = result.suggestion ?? 0;
    const probe = await checkPortAvailable("127.0.0.1", suggested);
    expect(probe).toEqual({ ok: true });
  });

  test("a free port is available and released again after the check", async () => {
    const spare = createServer();
    const port = await listen(spare, 0);
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    expect(await checkPortAvailable("127.0.0.1", port)).toEqual({ ok: true });
    expect(await checkPortAvailable("127.0.0.1", port)).toEqual({ ok: true });
  });

  test("an address not on this machine gives its error code", async () => {
    const result = await checkPortAvailable("192.0.2.123", 8080);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe("EADDRNOTAVAIL");
  });

  test("an in-use port is described with the suggested flag", () => {
    expect(describePortProblem({ ok: false, code: "EADDRINUSE", suggestion: 8123 }, 8080)).toBe(
      "port 8080 is already in use; try --port 8123",
    );
    expect(describePortProblem({ ok: false, code: "EADDRINUSE" }, 8080)).toBe(
      "port 8080 is already in use; choose another with --port",
    );
  });

  test("other failures are described with what to change", () => {
    expect(describePortProblem({ ok: false, code: "EACCES" }, 80)).toBe(
      "port 80 needs elevated privileges; use a port from 1024 up, e.g. --port 8080",
    );
    expect(describePortProblem({ ok: false, code: "EADDRNOTAVAIL" }, 8080)).toBe(
      "the address given with --host is not available on this machine; use 127.0.0.1 or 0.0.0.0",
    );
    expect(describePortProblem({ ok: false, code: "EWHATEVER" }, 9000)).toBe(
      "cannot listen on port 9000 (EWHATEVER); check --host and --port",
    );
  });
});
