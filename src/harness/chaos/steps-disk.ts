/**
 * Disk faults on the child server: a real full disk (the cache directory is a small tmpfs that a
 * filler file takes whole), and, in the full catalogue, the cache file-system switch
 * (GAUNTLET_DEBUG_CACHE_FS_FAULT) on servers of their own: ENOSPC after N writes, EIO at start-up.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { decodeFile, tempFiles, undecodableRecords } from "./cache-files.js";
import type { ChaosStep } from "./case-runner.js";
import { ask, chat, judgeAnswer, keyOf, reference, verifyService, waitUntil } from "./main-context.js";
import type { MainContext } from "./main-context.js";
import { IO_ERROR_LOG } from "./steps-cache.js";
import { fillDisk, freeDisk } from "./tmpfs.js";

export const DISK_FULL = "disk-full";

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
      const temps = await tempFiles(ctx.recordDir);
      r.check(temps.length === 0, "no temp file of a failed write left behind", `${temps.length} left`);
    } finally {
      await freeDisk(filler);
      freedAt = performance.now();
    }
    // Space is back: new answers must reach the disk again (after the breaker's cooldown).
    let stored = false;
    while (!stored && performance.now() - freedAt < 20_000) {
      const body = ask(ctx, `disk recovered ${ctx.next()}`);
      judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), "a request after space came back");
      const file = await decodeFile(join(ctx.recordDir, `${keyOf(ctx, body)}.rec`), ctx.fingerprint);
      if (file?.ok) {
        stored = true;
        r.recovered(performance.now() - freedAt);
      } else await new Promise((res) => setTimeout(res, 100));
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
      expected: "every request answered with its reference, ENOSPC logged (detect), the cache bypassed or degraded but service continuing (recover: the first correct answer after the first error)",
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
      judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), `request ${i + 1}`);
      const first = ctx.server.logs().find((e) => e.code === "ENOSPC");
      if (first) {
        r.detected(first.at - t0);
        r.recovered(performance.now() - first.at);
      }
    }
    r.check(ctx.server.countLogs(IO_ERROR_LOG, "ENOSPC") > 0, "ENOSPC was logged (errors counted)");
    const temps = await tempFiles(ctx.recordDir);
    r.check(temps.length === 0, "no temp file of a failed write left behind", `${temps.length} left`);
    await verifyService(ctx, r, t0);
  },
};

/** On a server started with GAUNTLET_DEBUG_CACHE_FS_FAULT=eio-at:1: the cache cannot even open. */
export const eioAtStartStep: ChaosStep<MainContext> = {
  cases: [
    {
      name: "disk-eio-at-start",
      description: "GAUNTLET_DEBUG_CACHE_FS_FAULT=eio-at:1: the very first cache file operation (creating its directory) fails with EIO",
      expected: "the server starts and serves every request with its reference (from memory or the engine), the EIO logged at start-up (detect: spawn to the log line)",
      detectWithinMs: 60_000,
      recoverWithinMs: 60_000,
    },
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("disk-eio-at-start");
    const logged = await waitUntil(() => ctx.server.countLogs(IO_ERROR_LOG, "EIO") > 0, 5000);
    if (r.check(logged !== null, "the EIO was logged (errors counted)")) r.detected(ctx.server.startMs);
    const body = ask(ctx, "eio at start");
    judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), "a request");
    judgeAnswer(r, await chat(ctx, body), await reference(ctx, body), "the same request again");
    r.recovered(ctx.server.startMs);
    await verifyService(ctx, r, performance.now());
  },
};
