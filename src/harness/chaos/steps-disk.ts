/**
 * Disk faults on the child server: a real full disk (the cache directory is a small tmpfs that a
 * filler file takes whole), and, in the full catalogue, the cache file-system switch
 * (GAUNTLET_DEBUG_CACHE_FS_FAULT) on servers of their own: ENOSPC after N writes, EIO at start-up.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { decodeFile, tempFiles, undecodableRecords } from "./cache-files.js";
import type { CaseRecorder } from "./case-recorder.js";
import type { ChaosStep } from "./case-runner.js";
import { ask, chat, judgeAnswer, keyOf, recordStored, reference, verifyService, waitUntil } from "./main-context.js";
import type { MainContext } from "./main-context.js";
import { IO_ERROR_LOG } from "./steps-cache.js";
import { getJson } from "./http-client.js";
import { fillDisk, freeDisk } from "./tmpfs.js";

export const DISK_FULL = "disk-full";

/**
 * Records are written behind the answer (src/server/caching-inference.ts), so a write may still be under way
 * when the last answer arrives: a temp file then is in flight, not left behind. Waits (bounded) for it to go.
 */
async function checkNoTemps(ctx: MainContext, r: CaseRecorder): Promise<void> {
  const gone = await waitUntil(async () => (await tempFiles(ctx.recordDir)).length === 0, 5000, 25, ctx.signal);
  r.check(gone !== null, "no temp file of a failed write left behind (once the writes behind the answers settled)", `${(await tempFiles(ctx.recordDir)).length} still there after 5 s`);
}

/** The full disk, made real on the tmpfs the cache directory lives on. */
export const diskFullStep: ChaosStep<MainContext> = {
  cases: [
    {
      name: DISK_FULL,
      description: "no space left: a filler file takes every free byte of the cache's file system (a real ENOSPC on a small tmpfs), then is deleted",
      expected:
        "every request answered with its reference while the disk is full, ENOSPC logged (detect), no torn record or temp file left; once space is back, new records are stored again (recover: from freeing to the first new record on disk)",
      detectWithinMs: 10_000,
      recoverWithinMs: 20_000,
    },
  ],
  timeoutMs: 120_000,
  async run(ctx, rec) {
    const r = rec(DISK_FULL);
    const bodies = [1, 2, 3].map((i) => ask(ctx, `disk full ${i}`));
    const refs = await Promise.all(bodies.map((b) => reference(ctx, b)));
    const filler = join(ctx.config.cacheDir, "chaos-filler");
    const before = ctx.server.countLogs(IO_ERROR_LOG, "ENOSPC");
    const t0 = performance.now();
    let freedAt = 0;
    try {
      const taken = await fillDisk(filler);
      r.note(`the filler took ${Math.round(taken / 1024)} KiB of the ${Math.round((ctx.tmpfsBytes ?? 0) / 1024)} KiB tmpfs`);
      for (const [i, body] of bodies.entries()) judgeAnswer(r, await chat(ctx, body), refs[i] as string, `request ${i + 1} on a full disk`);
      const logged = await waitUntil(() => ctx.server.countLogs(IO_ERROR_LOG, "ENOSPC") > before, 5000);
      const first = ctx.server.logs().filter((e) => e.code === "ENOSPC" && e.msg.includes(IO_ERROR_LOG))[before];
      if (r.check(logged !== null, "the server logged ENOSPC (errors counted)", "no ENOSPC line", `${ctx.server.countLogs(IO_ERROR_LOG, "ENOSPC") - before} ENOSPC line(s)`)) r.detected((first?.at ?? performance.now()) - t0);
      const torn = [];
      for (const body of bodies) {
        const stored = await decodeFile(join(ctx.recordDir, `${keyOf(ctx, body)}.rec`), ctx.fingerprint);
        if (stored !== null && !stored.ok) torn.push(stored.reason);
      }
      r.check(torn.length === 0, "no torn record of a failed write", `undecodable: ${torn.join(", ")}`);
      await checkNoTemps(ctx, r);
    } finally {
      await freeDisk(filler);
      freedAt = performance.now();
    }
    // Space is back: new answers must reach the disk again (after the breaker's cooldown).
    let stored = false;
    while (!stored && performance.now() - freedAt < 20_000 && !ctx.signal.aborted) {
      const body = ask(ctx, `disk recovered ${ctx.next()}`);
      judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), "a request after space came back");
      // Records are written after the answer goes out: give this one's write a moment to land.
      const path = join(ctx.recordDir, `${keyOf(ctx, body)}.rec`);
      const file = await waitUntil(async () => (await decodeFile(path, ctx.fingerprint))?.ok === true, 1000, 25, ctx.signal);
      if (file !== null) {
        stored = true;
        r.recovered(performance.now() - freedAt);
      }
    }
    r.check(stored, "new records are stored again once space is back");
    const bad = await undecodableRecords(ctx.recordDir, ctx.fingerprint, new Set());
    r.check(bad.length === 0, "every record file on disk decodes", bad.slice(0, 3).join(", "));
    await verifyService(ctx, r, freedAt);
  },
};

/** On a server started with GAUNTLET_DEBUG_CACHE_FS_FAULT=enospc-after:2: the disk fills for good. */
export const enospcInjectedStep: ChaosStep<MainContext> = {
  cases: [
    {
      name: "disk-enospc-injected",
      description: "GAUNTLET_DEBUG_CACHE_FS_FAULT=enospc-after:2: after two record writes, every write fails with ENOSPC, for good",
      expected:
        "every request answered with its reference, ENOSPC logged (detect: from the start of the request whose write failed to the log line), the cache bypassed or degraded but service continuing (recover: from the log line to the first correct answer after it)",
      detectWithinMs: 10_000,
      recoverWithinMs: 15_000,
    },
  ],
  timeoutMs: 90_000,
  async run(ctx, rec) {
    const r = rec("disk-enospc-injected");
    const t0 = performance.now();
    for (let i = 0; i < 8; i++) {
      const body = ask(ctx, `enospc injected ${i}`);
      const ref = await reference(ctx, body);
      const sentAt = performance.now();
      const ok = judgeAnswer(r, await chat(ctx, body), ref, `request ${i + 1}`);
      const answeredAt = performance.now();
      const first = ctx.server.logs().find((e) => e.code === "ENOSPC");
      // The first request after which the log line is there is the one whose write failed.
      if (first) r.detected(first.at - sentAt);
      if (first && ok && answeredAt >= first.at) r.recovered(answeredAt - first.at);
    }
    r.check(ctx.server.countLogs(IO_ERROR_LOG, "ENOSPC") > 0, "ENOSPC was logged (errors counted)");
    await checkNoTemps(ctx, r);
    await verifyService(ctx, r, t0);
  },
};

/** On a server started with GAUNTLET_DEBUG_CACHE_FS_FAULT=eio-at:1: the cache cannot even open, once. */
export const eioAtStartStep: ChaosStep<MainContext> = {
  cases: [
    {
      name: "disk-eio-at-start",
      description: "GAUNTLET_DEBUG_CACHE_FS_FAULT=eio-at:1: the very first cache file operation (creating its directory) fails with EIO, once",
      expected:
        "the server starts and serves every request with its reference meanwhile (the memory cache still works); the EIO logged (detect: from the spawn, whose first cache operation fails, to the log line); the disk store opened again in the background and new records stored (recover: from the log line to the first new record on disk)",
      detectWithinMs: 60_000,
      recoverWithinMs: 30_000,
    },
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("disk-eio-at-start");
    const logged = await waitUntil(() => ctx.server.countLogs(IO_ERROR_LOG, "EIO") > 0, 5000, 25, ctx.signal);
    const line = ctx.server.logs().find((e) => e.code === "EIO" && e.msg.includes(IO_ERROR_LOG));
    if (r.check(logged !== null && line !== undefined, "the EIO was logged (errors counted)")) r.detected(line!.at - ctx.server.spawnedAt);
    const body = ask(ctx, "eio at start");
    judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), "a request");
    const again = await chat(ctx, body);
    judgeAnswer(r, again, await reference(ctx, body), "the same request again");
    r.check(again.cacheHit === true, "the same request again is a hit (the memory cache works without the disk)", `x-cache-hit ${again.cacheHit}`);
    // The disk store is opened again in the background: new answers must reach the disk.
    const since = line?.at ?? performance.now();
    let stored = false;
    while (!stored && performance.now() - since < 20_000 && !ctx.signal.aborted) {
      const probe = ask(ctx, `eio at start, later ${ctx.next()}`);
      judgeAnswer(r, await chat(ctx, probe), await reference(ctx, probe), "a request while the disk store comes back");
      stored = (await recordStored(ctx, probe, undefined, 500)) !== null;
      if (stored) r.recovered(performance.now() - since);
    }
    const responses = (await getJson(ctx.server.baseUrl, "/cache", 3000)).json?.responses as { diskAvailable?: unknown } | null | undefined;
    r.check(stored, "the disk store was opened again and new records reach the disk", `none within 20 s of the EIO; /cache diskAvailable ${String(responses?.diskAvailable)}`);
    await verifyService(ctx, r, performance.now());
  },
};
