/**
 * kill -9 of the server container while it writes response-cache records, then a restart on the same cache
 * volume. Records are written behind the answers (src/server/caching-inference.ts), so an answer alone does not
 * make its record durable: what must hold is that every record completely written before the kill is served as
 * a hit with the text that was answered, that nothing torn is ever served, and that every answer is given again
 * with the same text. The first server delays each record's fsync (test-only GAUNTLET_DEBUG_CACHE_FS_FAULT
 * slow-sync), so the kill lands inside writes; while it is down one complete record is truncated (a torn record,
 * as a file system without atomic rename could leave), which the restarted server must quarantine, not serve.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeRecord } from "../../src/cache/record-codec.js";
import { corruptionOp, seededRandom } from "../../src/harness/chaos/corrupt.js";
import { keyOf } from "../../src/harness/chaos/main-context.js";
import type { ChatBody } from "../../src/harness/chaos/main-context.js";
import { listCacheFiles, recordFingerprint, recordProblem } from "./helpers/cache-files.js";
import type { CacheFiles } from "./helpers/cache-files.js";
import { containerLogs, containerState, killContainer, removeContainer } from "./helpers/docker-client.js";
import type { ContainerState } from "./helpers/docker-client.js";
import { chatRequest, runLoad } from "./helpers/http-load.js";
import type { LoadSummary } from "./helpers/http-load.js";
import { startServerContainer, type ServerContainer } from "./helpers/server-container.js";

const BEFORE_CRASH = 10;
/** Responses completed during the load before the kill; the kill then lands among writes in flight. */
const KILL_AFTER_OK = 15;
/** Every record fsync of the first server waits this long: longer than the kill takes to land. */
const SLOW_SYNC_MS = 40;

interface Answer {
  body: ChatBody;
  text: string;
}

interface Reply {
  status: number;
  text: string;
  cacheHit: string | null;
}

const textOf = (raw: string) => {
  try {
    return (JSON.parse(raw) as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message?.content ?? "";
  } catch {
    return "";
  }
};

async function chat(url: string, body: ChatBody): Promise<Reply> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: false }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: textOf(await res.text()), cacheHit: res.headers.get("x-cache-hit") };
}

const bodyOf = (i: number) => chatRequest(i, { stream: false, maxTokens: 24 }).body as ChatBody;

describe("server killed with SIGKILL mid-write", () => {
  let dataDir = "";
  let first: ServerContainer | undefined;
  let second: ServerContainer | undefined;
  const before: Answer[] = [];
  const during: Answer[] = [];
  let load: LoadSummary | undefined;
  let killed: ContainerState | undefined;
  let afterKill: CacheFiles | undefined;
  let recordDir = "";
  let fingerprint = "";
  /** Answers whose record was complete (decodes) on disk while the server was down. */
  const complete = new Set<Answer>();
  let torn: { answer: Answer; key: string } | undefined;
  const replies = new Map<Answer, Reply>();

  const pathOf = (a: Answer) => join(recordDir, `${keyOf({ fingerprint }, a.body)}.rec`);
  const isComplete = async (a: Answer) => (await recordProblem(pathOf(a)).catch(() => "absent")) === null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gauntlet-crash-"));
    first = await startServerContainer({ name: "crash-first", dataDir, env: { GAUNTLET_DEBUG_CACHE_FS_FAULT: `slow-sync:${SLOW_SYNC_MS}` } });
    for (let i = 0; i < BEFORE_CRASH; i++) {
      const r = await chat(first.url, bodyOf(i));
      expect(r.status).toBe(200);
      before.push({ body: bodyOf(i), text: r.text });
    }
    // The records of these are written behind their answers: wait until all are on disk.
    for (let i = 0; i < 100 && (afterKill = await listCacheFiles(join(dataDir, "responses"))).records.length < BEFORE_CRASH; i++) await sleep(100);
    const sample = afterKill!.records[0];
    fingerprint = (sample ? await recordFingerprint(sample) : null) ?? "";
    expect(fingerprint, "no record of the first answers reached the disk").toMatch(/^[0-9a-f]{64}$/);
    recordDir = join(dataDir, "responses", fingerprint.slice(0, 16));

    // Steady deterministic traffic (each answer a new record); kill -9 right after an answer, inside its write.
    const stop = new AbortController();
    let kill: Promise<void> | undefined;
    const target = first;
    load = await runLoad({
      url: target.url,
      requests: 400,
      ratePerSec: 40,
      maxInFlight: 8,
      timeoutMs: 20_000,
      request: (i) => chatRequest(1000 + i, { stream: false, maxTokens: 24 }),
      stop: stop.signal,
      onResponse: (status, soFar, detail) => {
        if (status !== 200) return;
        during.push({ body: detail.request.body as ChatBody, text: textOf(detail.body) });
        if (soFar.ok === KILL_AFTER_OK && !stop.signal.aborted) {
          kill = killContainer(target.id);
          stop.abort();
        }
      },
    });
    await kill;
    killed = await containerState(first.id);

    // While it is down: what is on disk, which answers have a complete record; then tear one complete record.
    afterKill = await listCacheFiles(join(dataDir, "responses"));
    for (const a of [...before, ...during]) if (await isComplete(a)) complete.add(a);
    const victim = before.find((a) => complete.has(a));
    if (victim) {
      const path = pathOf(victim);
      const decoded = decodeRecord(await readFile(path), { fingerprint, maxBytes: 8 << 20, key: keyOf({ fingerprint }, victim.body) });
      if (decoded.ok) {
        await corruptionOp("truncate").apply(path, { random: seededRandom(7), record: decoded.record });
        torn = { answer: victim, key: keyOf({ fingerprint }, victim.body) };
      }
    }
    console.log(
      `[crash-restart] load until the kill: ${JSON.stringify(load)}; on disk while down: ${afterKill.records.length} record(s), ` +
        `${afterKill.temps.length} temp file(s) of interrupted writes; ${[...during].filter((a) => complete.has(a)).length} of ${during.length} answers of the load had a complete record; ` +
        `one record of the first answers truncated: ${torn ? "yes" : "no"}`,
    );

    second = await startServerContainer({ name: "crash-second", dataDir });
    for (const a of [...before, ...during]) replies.set(a, await chat(second.url, a.body));
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

  test("the kill landed inside record writes: temp files of interrupted writes, or answers whose record was not complete", () => {
    const unwritten = during.filter((a) => !complete.has(a)).length;
    expect(afterKill!.temps.length + unwritten, "every write had finished before the kill: no torn write was tested").toBeGreaterThan(0);
  });

  test("starts again on the same cache volume and serves a new chat completion", async () => {
    const r = await chat(second!.url, bodyOf(5000));
    expect(r.status, await containerLogs(second!.id)).toBe(200);
    expect(r.text.length).toBeGreaterThan(0);
  });

  test("gives every answer of before the kill again with the same text", () => {
    const all = [...before, ...during];
    expect(all.length).toBeGreaterThanOrEqual(BEFORE_CRASH + KILL_AFTER_OK);
    const differing = all.filter((a) => replies.get(a)?.status !== 200 || replies.get(a)?.text !== a.text);
    expect(differing.map((a) => ({ asked: a.body.messages[0]!.content, was: a.text, now: replies.get(a) }))).toEqual([]);
  });

  test("serves every record completely written before the kill as a cache hit", () => {
    const intact = [...complete].filter((a) => a !== torn?.answer);
    expect(intact.length).toBeGreaterThanOrEqual(BEFORE_CRASH - 1);
    const lost = intact.filter((a) => replies.get(a)?.cacheHit !== "true");
    expect(lost.map((a) => ({ asked: a.body.messages[0]!.content, reply: replies.get(a) }))).toEqual([]);
  });

  test("quarantines the torn record instead of serving it, and stores a fresh one in its place", async () => {
    expect(torn, "no complete record of the first answers to tear").toBeDefined();
    expect(replies.get(torn!.answer)).toMatchObject({ status: 200, text: torn!.answer.text, cacheHit: "false" });
    const files = await listCacheFiles(join(dataDir, "responses"));
    expect(files.quarantined.filter((p) => p.includes(`.${torn!.key}.rec.`)), `quarantine holds: ${files.quarantined.join(", ")}`).toHaveLength(1);
    // Written behind the answer: give it a moment.
    let problem: string | null = "absent";
    for (let i = 0; i < 50 && problem !== null; i++, await sleep(100)) problem = await recordProblem(pathOf(torn!.answer)).catch(() => "absent");
    expect(problem).toBeNull();
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
