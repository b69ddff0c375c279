/**
 * Issue 7 (chaos) found: a named pipe (FIFO) where a response-cache record should be hangs the
 * request that looks it up, for as long as nobody writes to the pipe. DiskStore's readBounded()
 * (src/cache/file-ops.ts) opens the path with fs.open(path, "r") before it checks the file type, and
 * open(2) on a FIFO blocks until a writer appears: the lookup never returns, the request is never
 * answered (the request timeout does not cover the cache lookup), the key's lock stays held so every
 * later identical request hangs too, and one libuv thread stays blocked (four such files stall all
 * file I/O of the process). `gauntlet chaos` shows it as cache-running-fifo and cache-stopped-fifo.
 * Fixed in src/cache/cache-fs.ts: the real file system opens records for reading with O_NONBLOCK, and
 * readBounded() refuses anything fstat does not call a regular file.
 */
import { execFileSync } from "node:child_process";
import { constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { nodeCacheFs } from "../../src/cache/cache-fs.js";
import { cacheKey } from "../../src/cache/cache-key.js";
import { standInEngine, standInText, startInProcess } from "../../src/harness/chaos/in-process.js";
import type { InProcessServer } from "../../src/harness/chaos/in-process.js";

const engine = standInEngine();
const fp = engine.info().fingerprint;
let dir = "";
let server: InProcessServer | null = null;
let fifo: string | null = null;

afterEach(async () => {
  if (fifo) {
    // Releases a reader blocked in open(2): a writer opening the pipe lets it through (then EOF).
    await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((h) => h.close(), () => undefined);
    fifo = null;
  }
  await server?.close();
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

async function serverWith(content: string, plant: (path: string) => void): Promise<InProcessServer> {
  dir = mkdtempSync(join(tmpdir(), "gauntlet-issue7-fifo-"));
  server = await startInProcess(dir, nodeCacheFs, engine);
  await server.settled();
  const key = cacheKey(fp, [{ role: "user", content }], { maxTokens: 8, temperature: 0, topP: 1, seed: undefined, stop: [] });
  plant(join(dir, "responses", fp.slice(0, 16), `${key}.rec`));
  return server;
}

/** The answer, or a string saying there was none within the bound (a liveness bound, not a timing check). */
const answered = (s: InProcessServer, content: string) =>
  Promise.race([s.ask(content), new Promise<string>((r) => setTimeout(() => r("no answer within 10 s"), 10_000).unref())]);

describe("issue 7: unreadable things where a cache record should be", () => {
  test("control: a directory there is reported as an I/O error and the request is answered", async () => {
    const s = await serverWith("a directory instead of a record", (path) => mkdirSync(path));
    expect(await answered(s, "a directory instead of a record")).toMatchObject({ status: 200, text: standInText("a directory instead of a record", 8), hit: false });
  });

  test("a FIFO there does not hang the request: it is answered like any unreadable file", async () => {
    const s = await serverWith("a fifo instead of a record", (path) => {
      execFileSync("mkfifo", [path]);
      fifo = path;
    });
    expect(await answered(s, "a fifo instead of a record")).toMatchObject({ status: 200, text: standInText("a fifo instead of a record", 8) });
  }, 30_000);
});
