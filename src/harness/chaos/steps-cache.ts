/**
 * Cache files corrupted while the server runs: for a request the server has never seen, a bad file
 * is planted where its record goes, then the request is sent. The server must answer with the
 * reference (never the planted file), quarantine a corrupt record (or report an I/O error for a
 * file it cannot read, leaving it), log it, store a fresh record, and keep serving.
 *
 * Corrupt records are built from a record whose text is deliberately wrong, so accepting one would
 * show as a wrong answer; a file that root may still read (mode 000) holds the right answer.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { encodeRecord } from "../../cache/record-codec.js";
import type { CacheRecord } from "../../cache/record-codec.js";
import { cacheBypassed, corruptionsCounted, decodeFile, quarantinedName } from "./cache-files.js";
import type { ChaosStep } from "./case-runner.js";
import { CORRUPTION_OPS, WRONG_TEXT } from "./corrupt.js";
import type { CorruptionOp, ExpectedRecord } from "./corrupt.js";
import type { CaseRecorder } from "./case-recorder.js";
import { ask, chat, judgeAnswer, keyOf, recordStored, referenceValue, verifyService, waitUntil } from "./main-context.js";
import type { MainContext } from "./main-context.js";

export const QUARANTINED_LOG = "corrupt record quarantined";
export const IO_ERROR_LOG = "disk operation failed";
/** A record path that cannot be used (a directory, a FIFO, an unreadable file), reported once per key. */
export const UNUSABLE_LOG = "unusable record path";
/** Log lines that report an unreadable record path: either message. */
export const unreadableReports = (server: MainContext["server"]) => server.countLogs(IO_ERROR_LOG) + server.countLogs(UNUSABLE_LOG);

function runningStep(op: CorruptionOp): ChaosStep<MainContext> {
  const name = `cache-running-${op.name}`;
  return {
    cases: [
      {
        name,
        description: `while the server runs, ${op.description}, for a request it has not seen`,
        expected:
          op.handling === "quarantine"
            ? "200 with the reference answer (x-cache-hit false), the file quarantined and logged (detect), a fresh valid record stored, the next identical request a hit"
            : op.handling === "io-error"
              ? "200 with the reference answer (x-cache-hit false), the I/O error logged (detect), the unreadable thing left in place (a link or FIFO may instead be replaced by a fresh valid record), service continues"
              : "200 with the reference answer (read from disk when the server runs as root, else regenerated), service continues",
        detectWithinMs: 10_000,
        recoverWithinMs: 15_000,
      },
    ],
    timeoutMs: 90_000,
    async run(ctx, rec) {
      const r = rec(name);
      const body = ask(ctx, `cache running ${op.name}`);
      const value = await referenceValue(ctx, body);
      const key = keyOf(ctx, body);
      const path = join(ctx.recordDir, `${key}.rec`);
      const good: CacheRecord = { key, fingerprint: ctx.fingerprint, createdAt: Date.now(), value };
      const base = op.handling === "quarantine" ? { ...good, value: { ...value, text: WRONG_TEXT } } : good;
      await writeFile(path, encodeRecord(base));
      await op.apply(path, { random: ctx.random, record: base });
      const before = { corrupt: ctx.server.countLogs(QUARANTINED_LOG), io: unreadableReports(ctx.server), counted: await corruptionsCounted(ctx) };
      const t0 = performance.now();
      try {
        const first = await chat(ctx, body, { timeoutMs: ctx.requestTimeoutMs + 5000 });
        judgeAnswer(r, first, value.text, "the first request");
        if (op.handling !== "maybe-readable") r.check(first.cacheHit === false, "the planted file was not served (x-cache-hit false)", `x-cache-hit ${first.cacheHit}`);
        if (op.handling === "quarantine") {
          const moved = await quarantinedName(ctx.recordDir, key);
          if (r.check(moved !== null, "the corrupt file was moved to quarantine/", "it was not there", `as …${moved?.slice(moved.lastIndexOf(".rec.") + 1)}`)) r.detected(first.ms);
          r.check(ctx.server.countLogs(QUARANTINED_LOG) > before.corrupt, "the corruption was logged (one warning per bad record)");
          const counted = await corruptionsCounted(ctx);
          if (before.counted === null || counted === null) r.note("/metrics exposes no gauntlet_cache_corruptions_total: the corruption could only be counted from the log");
          else r.check(counted > before.counted, "the corruption was counted (gauntlet_cache_corruptions_total in /metrics)", `${before.counted} before, ${counted} after`);
          const stored = await recordStored(ctx, body, value.text);
          const fresh = stored === null ? await decodeFile(path, ctx.fingerprint, key) : null;
          r.check(stored !== null, "a fresh, valid record with the reference answer replaced it", fresh === null ? "no readable file" : fresh.ok ? "its text differs" : fresh.reason);
        } else if (op.handling === "io-error") {
          const logged = await waitUntil(() => unreadableReports(ctx.server) > before.io, 3000, 25, ctx.signal);
          if (r.check(logged !== null, "the unreadable path was reported (an I/O error or an unusable record path logged)")) r.detected(first.ms);
        } else {
          r.detected(first.ms);
          r.note(first.cacheHit ? "the file was still readable (the server runs as root) and served: its text is the reference" : "the file could not be read: the answer was generated");
        }
        const second = await chat(ctx, body);
        judgeAnswer(r, second, value.text, "the same request again");
        if (op.handling === "quarantine") r.check(second.cacheHit === true, "the same request again is a cache hit", `x-cache-hit ${second.cacheHit}`);
        await checkAfterwards(r, op, path, { fingerprint: ctx.fingerprint, key, text: value.text });
      } finally {
        await op.cleanup?.(path);
      }
      const back = await waitUntil(async () => !(await cacheBypassed(ctx)), 10_000);
      r.check(back !== null, "the response cache is in service again (no open breaker)");
      await verifyService(ctx, r, t0);
    },
  };
}

/** For an unreadable thing: what the operation says must be at its path now (before its cleanup). */
export async function checkAfterwards(r: CaseRecorder, op: CorruptionOp, path: string, expected: ExpectedRecord): Promise<void> {
  if (!op.inspectAfter) return;
  const after = await op.inspectAfter(path, expected);
  r.check(after.ok, after.what, after.seen, after.seen);
}

export function cacheRunningSteps(quick: boolean): ChaosStep<MainContext>[] {
  return CORRUPTION_OPS.filter((op) => op.quick || !quick).map(runningStep);
}
