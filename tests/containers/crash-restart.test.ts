import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { listCacheFiles, recordProblem } from "./helpers/cache-files.js";
import type { CacheFiles } from "./helpers/cache-files.js";
import { containerLogs, containerState, killContainer, removeContainer } from "./helpers/docker-client.js";
import type { ContainerState } from "./helpers/docker-client.js";
import { chatRequest, runLoad } from "./helpers/http-load.js";
import type { LoadSummary } from "./helpers/http-load.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";

const BEFORE_CRASH = 10;
/** Responses completed during the load before the kill; the kill then lands among writes in flight. */
const KILL_AFTER_OK = 15;

async function chat(url: string, i: number): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(chatRequest(i, { stream: false, maxTokens: 24 }).body),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { choices?: Array<{ message: { content: string } }> };
  return { status: res.status, text: body.choices?.[0]?.message.content ?? "" };
}

describe("server killed with SIGKILL mid-write", () => {
  let dataDir = "";
  let first: ServerContainer | undefined;
  let second: ServerContainer | undefined;
  const textsBefore: string[] = [];
  let load: LoadSummary | undefined;
  let killed: ContainerState | undefined;
  let afterKill: CacheFiles | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gauntlet-crash-"));
    first = await startServerContainer({ name: "crash-first", dataDir });
    for (let i = 0; i < BEFORE_CRASH; i++) {
      const r = await chat(first.url, i);
      expect(r.status).toBe(200);
      textsBefore.push(r.text);
    }

    // Steady deterministic traffic (each answer a new cache record); kill -9 once enough have completed.
    const stop = new AbortController();
    let kill: Promise<void> | undefined;
    const target = first;
    load = await runLoad({
      url: target.url,
      requests: 400,
      ratePerSec: 40,
      maxInFlight: 8,
      timeoutMs: 20_000,
      request: (i) => chatRequest(1000 + i, { maxTokens: 24 }),
      stop: stop.signal,
      onResponse: (status, soFar) => {
        if (status === 200 && soFar.ok === KILL_AFTER_OK && !stop.signal.aborted) {
          kill = killContainer(target.id);
          stop.abort();
        }
      },
    });
    await kill;
    killed = await containerState(first.id);
    afterKill = await listCacheFiles(join(dataDir, "responses"));
    console.log(
      `[crash-restart] load until the kill: ${JSON.stringify(load)}; on disk after the kill: ${afterKill.records.length} record(s), ` +
        `${afterKill.temps.length} temp file(s), ${afterKill.quarantined.length} quarantined`,
    );

    second = await startServerContainer({ name: "crash-second", dataDir });
  }, 180_000);

  afterAll(async () => {
    await removeContainer(first?.id);
    await removeContainer(second?.id);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test("dies with exit code 137, not from OOM, when killed during a load", () => {
    expect(load!.ok).toBeGreaterThanOrEqual(KILL_AFTER_OK);
    expect(killed).toMatchObject({ running: false, exitCode: 137, oomKilled: false });
  });

  test("starts again on the same cache volume and serves a chat completion", async () => {
    const r = await chat(second!.url, 5000);
    expect(r.status, await containerLogs(second!.id)).toBe(200);
    expect(r.text.length).toBeGreaterThan(0);
  });

  test("answers the requests completed before the crash with the same text after the restart", async () => {
    const after: string[] = [];
    for (let i = 0; i < BEFORE_CRASH; i++) {
      const r = await chat(second!.url, i);
      expect(r.status).toBe(200);
      after.push(r.text);
    }
    expect(after).toEqual(textsBefore);
  });

  test("keeps every response-cache record in place intact and removes the crash's temp files", async () => {
    const dir = join(dataDir, "responses");
    // The restarted server opens the store in the background; its open() removes temp files of the crash.
    let files = await listCacheFiles(dir);
    for (let i = 0; i < 50 && files.temps.length > 0; i++) {
      await sleep(200);
      files = await listCacheFiles(dir);
    }
    expect(files.temps).toEqual([]);
    const problems: string[] = [];
    for (const path of files.records) {
      const reason = await recordProblem(path);
      if (reason !== null) problems.push(`${path.slice(dir.length)}: ${reason}`);
    }
    console.log(`[crash-restart] after the restart: ${files.records.length} intact record(s), ${files.quarantined.length} quarantined`);
    expect(problems).toEqual([]);
  });
});
