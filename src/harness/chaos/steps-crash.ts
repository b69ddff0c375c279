/**
 * kill -9 under load, cache files corrupted while the server is down, and the restart.
 *
 * Before the kill, one record per corruption operation (and an untouched control) is written by a
 * normal request. Then clients send new cacheable requests in a loop and the server is killed
 * with SIGKILL while writes are in flight. While it is down, the seeded records are corrupted.
 * After the restart: it starts; no temp file of a torn write survives; every request answered
 * 200 with x-cache-hit false before the kill (its record is stored before the answer) is a hit
 * with the identical text; requests cut by the kill are answered with their reference; each
 * corrupted record is quarantined or reported at the start-up scan and never served.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { CaseRecorder, CaseSpec } from "./case-recorder.js";
import { decodeFile, quarantinedName, scanComplete, tempFiles, undecodableRecords } from "./cache-files.js";
import type { ChaosStep } from "./case-runner.js";
import { CORRUPTION_OPS } from "./corrupt.js";
import type { CorruptionOp } from "./corrupt.js";
import { getJson } from "./http-client.js";
import { ask, chat, judgeAnswer, keyOf, recordPath, recordStored, reference, tagged, verifyService, waitUntil } from "./main-context.js";
import type { ChatBody, MainContext } from "./main-context.js";
import { IO_ERROR_LOG, UNUSABLE_LOG, checkAfterwards } from "./steps-cache.js";

const CRASH = "crash-kill9-under-load";
const stoppedName = (op: CorruptionOp) => `cache-stopped-${op.name}`;

interface Load {
  acknowledged: { body: ChatBody; text: string }[];
  cut: ChatBody[];
}

/**
 * Clients (more than the server's slots) ask new cacheable questions in a loop, each answer slowed
 * to a few hundred ms; once `killAfter` were answered, the server is killed a random 0-15 ms later:
 * inside requests in flight (generating or queued), and inside the record write behind the last
 * answer (its fsync waits SLOW_SYNC_MS, longer than that).
 */
async function loadUntilKilled(ctx: MainContext, workers: number, killAfter: number, maxMs: number): Promise<Load & { killedAt: number }> {
  const load: Load = { acknowledged: [], cut: [] };
  let killed = false;
  let killedAt = 0;
  const started = performance.now();
  const worker = async () => {
    while (!killed && !ctx.signal.aborted) {
      // 20 ms per chunk: every answer takes a few hundred ms, so requests are surely in flight at the kill.
      const body = tagged(ask(ctx, `crash load ${ctx.next()}`, 16), "slow:20");
      const reply = await chat(ctx, body, { timeoutMs: 15_000 });
      if (reply.status === 200 && reply.cacheHit === false && reply.text !== null) load.acknowledged.push({ body, text: reply.text });
      else load.cut.push(body);
    }
  };
  const killer = async () => {
    await waitUntil(() => load.acknowledged.length >= killAfter || performance.now() - started > maxMs, maxMs + 1000, 5, ctx.signal);
    await new Promise((r) => setTimeout(r, Math.floor(ctx.random() * 15)));
    killed = true;
    killedAt = performance.now();
    await ctx.server.kill9();
  };
  await Promise.all([...Array.from({ length: workers }, worker), killer()]);
  return { ...load, killedAt };
}

function stoppedSpec(op: CorruptionOp): CaseSpec {
  return {
    name: stoppedName(op),
    description: `while the server is stopped, ${op.description.replace(/^the record file/, "a stored record file")}; then the server starts`,
    expected:
      op.handling === "quarantine"
        ? "the server starts; the record is quarantined (by the start-up scan or at the latest on its first request; detect: from the restart's spawn until it was set aside), never served; the request is answered with the reference and is a hit the next time"
        : "the server starts; the file is reported as an I/O error or an unusable record path (detect: from the restart's spawn to the report) or, if root can, read correctly; never served wrong; the request is answered with the reference; an unreadable thing is left in place (a link or FIFO may instead be replaced by a fresh valid record)",
    detectWithinMs: 60_000,
    recoverWithinMs: 60_000,
  };
}

/** The restarted server: when it was spawned, and when its start-up scan was seen over (null: never). */
interface Restart {
  spawnedAt: number;
  scanDoneAt: number | null;
}

/** After the restart: the corrupted record's request (recover: from the restart's spawn until answered right). */
async function checkStopped(ctx: MainContext, r: CaseRecorder, op: CorruptionOp, body: ChatBody, ref: string, restart: Restart): Promise<void> {
  const key = keyOf(ctx, body);
  const path = join(ctx.recordDir, `${key}.rec`);
  try {
    const byScan = (await quarantinedName(ctx.recordDir, key)) !== null;
    const first = await chat(ctx, body, { timeoutMs: ctx.requestTimeoutMs + 5000 });
    const firstAt = performance.now();
    judgeAnswer(r, first, ref, "the request of the corrupted record");
    if (op.handling === "quarantine") {
      r.check(first.cacheHit === false, "the corrupted record was not served (x-cache-hit false)", `x-cache-hit ${first.cacheHit}`);
      const moved = await quarantinedName(ctx.recordDir, key);
      if (r.check(moved !== null, "the corrupted record was quarantined", "not in quarantine/", `as …${moved?.slice(moved.lastIndexOf(".rec.") + 1)}, ${byScan ? "by the start-up scan" : "at its first request"}`)) {
        r.detected((byScan && restart.scanDoneAt !== null ? restart.scanDoneAt : firstAt) - restart.spawnedAt);
      }
      r.check((await recordStored(ctx, body, ref)) !== null, "a fresh, valid record replaced it");
      const second = await chat(ctx, body);
      judgeAnswer(r, second, ref, "the same request again");
      r.check(second.cacheHit === true, "the same request again is a hit", `x-cache-hit ${second.cacheHit}`);
    } else {
      if (op.handling === "io-error") r.check(first.cacheHit === false, "the unreadable file was not served (x-cache-hit false)", `x-cache-hit ${first.cacheHit}`);
      const logged = ctx.server.logs().find((e) => e.msg.includes(IO_ERROR_LOG) || e.msg.includes(UNUSABLE_LOG));
      r.check(logged !== undefined || first.cacheHit === true, "the unreadable file was reported (an I/O error or an unusable record path logged) or, for root, read correctly");
      // Root reads a mode-000 file: then there is nothing to report, and serving it right is the detection.
      if (op.handling === "maybe-readable" && first.cacheHit === true) r.detected(firstAt - restart.spawnedAt);
      else if (logged) r.detected(logged.at - restart.spawnedAt);
      await checkAfterwards(r, op, path, { fingerprint: ctx.fingerprint, key, text: ref });
    }
    r.recovered(performance.now() - restart.spawnedAt);
  } finally {
    await op.cleanup?.(path);
  }
}

/** A corruption that would stall the shared restart (a FIFO blocks the start-up scan): its own stop and start. */
export function stoppedSoloStep(op: CorruptionOp): ChaosStep<MainContext> {
  return {
    cases: [stoppedSpec(op)],
    timeoutMs: 180_000,
    async run(ctx, rec) {
      const r = rec(stoppedName(op));
      const body = ask(ctx, `cache stopped alone ${op.name}`);
      judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), "seeding the record");
      const ref = await reference(ctx, body);
      r.check((await recordStored(ctx, body, ref)) !== null, "the seeded record reached the disk");
      await ctx.server.stop();
      const path = join(ctx.recordDir, `${keyOf(ctx, body)}.rec`);
      const decoded = await decodeFile(path, ctx.fingerprint);
      if (decoded?.ok) await op.apply(path, { random: ctx.random, record: decoded.record });
      const restartedAt = performance.now();
      await ctx.restart();
      const scan = await waitUntil(() => scanComplete(ctx), 20_000, 20, ctx.signal);
      await checkStopped(ctx, r, op, body, ref, { spawnedAt: ctx.server.spawnedAt, scanDoneAt: scan === null ? null : performance.now() });
      await verifyService(ctx, r, restartedAt);
    },
  };
}

/** The shared restart takes the corruptions safe for it (all of the quick subset); see stoppedSoloStep for the rest. */
export function crashStep(): ChaosStep<MainContext> {
  const ops = CORRUPTION_OPS.filter((op) => op.quick);
  return {
    cases: [
      {
        name: CRASH,
        description: "kill -9 of the server while clients write new cache records, then a restart on the same cache directory",
        expected:
          "it starts again; no temp file of a torn write survives and no undecodable record is kept; every answer given before the kill is given again with the identical text, and a hit when its record was complete on disk at the kill; requests cut by the kill get their reference (detect: from the restart until its scan has dealt with the crash's leftovers; recover: restart to verified service)",
        detectWithinMs: 60_000,
        recoverWithinMs: 90_000,
      },
      ...ops.map(stoppedSpec),
    ],
    timeoutMs: 300_000,
    async run(ctx, rec) {
      const crash = rec(CRASH);
      // Seed one record per corruption operation, and a control left alone.
      const seeds: { op: CorruptionOp | null; body: ChatBody; ref: string }[] = [];
      for (const op of [null, ...ops]) {
        const body = ask(ctx, `cache stopped ${op?.name ?? "control"}`);
        const reply = await chat(ctx, body);
        const ref = await reference(ctx, body);
        const r = op ? rec(stoppedName(op)) : crash;
        judgeAnswer(r, reply, ref, op ? "seeding the record" : "seeding the control record");
        r.check((await recordStored(ctx, body, ref)) !== null, "the seeded record reached the disk");
        seeds.push({ op, body, ref });
      }
      const load = await loadUntilKilled(ctx, ctx.quick ? 3 : 4, ctx.quick ? 10 : 20, ctx.quick ? 4000 : 8000);
      const gone = await waitUntil(async () => !ctx.server.alive() && (await getJson(ctx.server.baseUrl, "/health", 500)).status === null, 10_000, 25, ctx.signal);
      crash.check(gone !== null, "the killed server is gone (connections refused)");
      // While it is down: which answers have their record completely on disk (records are written behind the answer).
      const torn = await tempFiles(ctx.recordDir);
      const complete = new Set<ChatBody>();
      let differs = 0;
      for (const a of load.acknowledged) {
        const d = await decodeFile(recordPath(ctx, a.body), ctx.fingerprint, keyOf(ctx, a.body));
        if (d?.ok) complete.add(a.body);
        if (d?.ok && d.record.value.text !== a.text) differs++;
      }
      const unwritten = load.acknowledged.length - complete.size;
      crash.check(load.cut.length > 0, "the kill landed while requests were in flight", "every request had been answered: nothing was cut", `${load.acknowledged.length} answered 200 before the kill, ${load.cut.length} cut by it`);
      crash.check(
        torn.length > 0 || unwritten > 0,
        "the kill landed inside record writes (a temp file of an interrupted write on disk, or an answer whose record was not yet complete)",
        "every write had finished: the kill tested no torn write",
        `${torn.length} temp file(s) on disk while it was down; ${complete.size} of ${load.acknowledged.length} answers had their record complete, ${unwritten} not yet`,
      );
      crash.check(differs === 0, "every complete record on disk holds the text that was answered", `${differs} differ`);

      const corrupted = new Set<string>();
      for (const s of seeds) {
        if (!s.op) continue;
        const path = join(ctx.recordDir, `${keyOf(ctx, s.body)}.rec`);
        const decoded = await decodeFile(path, ctx.fingerprint);
        const r = rec(stoppedName(s.op));
        if (!r.check(decoded?.ok === true, "the seeded record was on disk before the corruption")) continue;
        if (decoded?.ok) await s.op.apply(path, { random: ctx.random, record: decoded.record });
        corrupted.add(`${keyOf(ctx, s.body)}.rec`);
      }

      const restartedAt = performance.now();
      try {
        await ctx.restart();
      } catch (err) {
        crash.check(false, "the server started again", String((err as Error).message).split("\n")[0]);
        return;
      }
      crash.check(true, "the server started again", "", `ready ${Math.round(ctx.server.startMs)} ms after spawn`);
      const scan = await waitUntil(() => scanComplete(ctx), 20_000, 20, ctx.signal);
      const restart: Restart = { spawnedAt: ctx.server.spawnedAt, scanDoneAt: scan === null ? null : performance.now() };
      // Detect: the restarted server has gone through the crash's leftovers (temp files removed, torn records set aside).
      if (crash.check(scan !== null, "the start-up scan of the cache finished", "", `${Math.round(scan ?? 0)} ms after ready`)) crash.detected(restart.scanDoneAt! - restart.spawnedAt);
      const left = await tempFiles(ctx.recordDir);
      crash.check(left.length === 0, "no temp file of a torn write survived the restart", `${left.length} left`);
      const bad = await undecodableRecords(ctx.recordDir, ctx.fingerprint, corrupted);
      crash.check(bad.length === 0, "no undecodable record file is kept (torn records are quarantined, never accepted)", bad.slice(0, 3).join(", "));

      let lost = 0;
      for (const a of load.acknowledged) {
        const reply = await chat(ctx, a.body);
        judgeAnswer(crash, reply, a.text, "an answer given before the kill, asked again: the same text");
        if (complete.has(a.body) && reply.cacheHit !== true) lost++;
      }
      crash.check(lost === 0, `every one of the ${complete.size} answers whose record was complete at the kill is a hit after the restart`, `${lost} were not`);
      for (const body of load.cut.slice(0, 8)) judgeAnswer(crash, await chat(ctx, body), await reference(ctx, body), "a request cut by the kill");
      const control = seeds.find((s) => s.op === null);
      if (control) {
        const reply = await chat(ctx, control.body);
        judgeAnswer(crash, reply, control.ref, "the untouched control record");
        crash.check(reply.cacheHit === true, "the untouched control record is a hit", `x-cache-hit ${reply.cacheHit}`);
      }
      if (await verifyService(ctx, crash, restartedAt)) crash.note(`restart to verified service: ${Math.round(performance.now() - restartedAt)} ms`);

      for (const s of seeds) if (s.op) await checkStopped(ctx, rec(stoppedName(s.op)), s.op, s.body, s.ref, restart);
    },
  };
}
