/**
 * SQLite's method on the response cache, in process (see in-process.ts): a short scripted run is
 * repeated with an I/O error injected at its Nth file operation, for every N, and with a power cut
 * (a partial write, then every operation fails) at its Wth write, for every W. Each faulted run must
 * answer every request correctly; the server reopened on the same directory with a healthy disk
 * must still hold every record that existed before (never lose valid data) and every record answered
 * before the cut, keep no torn record and no temp file. Without root (no tmpfs), the full disk is
 * also simulated here (ENOSPC injected, then lifted).
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { nodeCacheFs } from "../../cache/cache-fs.js";
import type { CacheFs } from "../../cache/cache-fs.js";
import { FaultInjectingFs } from "../../cache/fault-injecting-fs.js";
import type { CaseRecorder } from "./case-recorder.js";
import { listNames, tempFiles, undecodableRecords } from "./cache-files.js";
import type { ChaosStep } from "./case-runner.js";
import { standInEngine, standInText, startInProcess } from "./in-process.js";
import { keyOf } from "./main-context.js";
import type { ChatBody } from "./main-context.js";
import { FaultClockFs, PowerCutFs, RecordingFs } from "./sweep-fs.js";

export interface SweepContext {
  root: string;
  quick: boolean;
}

const engine = standInEngine();
const fingerprint = engine.info().fingerprint;
/** The body InProcessServer.ask sends for `content` (for its cache key). */
const askBody = (content: string): ChatBody => ({ messages: [{ role: "user", content }], max_tokens: 8, temperature: 0 });
const recordDir = (dir: string) => join(dir, "responses", engine.info().fingerprint.slice(0, 16));
const SEEDED = ["sweep seeded A", "sweep seeded B"];
/** The scripted run: hits of the seeded records, misses (writes) and repeats. The quick one is shorter. */
const scriptFor = (quick: boolean) =>
  quick ? [SEEDED[0]!, "sweep new C", SEEDED[1]!, "sweep new C", "sweep new D"] : [SEEDED[0]!, "sweep new C", SEEDED[1]!, "sweep new C", "sweep new D", "sweep new E", SEEDED[0]!, "sweep new F"];

/** A directory whose cache holds the seeded records, written by a healthy server. */
async function template(root: string): Promise<string> {
  const dir = join(root, "template");
  const s = await startInProcess(dir, nodeCacheFs, engine);
  await s.settled();
  for (const c of SEEDED) await s.ask(c);
  await s.close();
  return dir;
}

interface Tally {
  failures: Map<string, number[]>;
  slowestAnswerMs: number;
  slowestReopenMs: number;
  /** Per faulted run whose fault was reported: from the failing operation to the first log line or counted error. */
  detectMs: number[];
  /** Faulted runs whose fault fired and was neither logged nor counted in /metrics. */
  silent: number[];
}

const newTally = (): Tally => ({ failures: new Map(), slowestAnswerMs: 0, slowestReopenMs: 0, detectMs: [], silent: [] });
/** The server's report of a disk failure, or of a record path it cannot use. */
const REPORT_LOGS = ["disk operation failed", "unusable record path"];

const fail = (t: Tally, what: string, n: number) => t.failures.set(what, [...(t.failures.get(what) ?? []), n]);

function judge(rec: CaseRecorder, t: Tally, n: number, content: string, res: { status: number; text: string | null }, ms: number, phase: string): void {
  if (res.status !== 200) {
    rec.request("failed", ms, `status-${res.status}`);
    fail(t, `${phase}: a request was not answered 200`, n);
  } else if (res.text !== standInText(content, 8)) {
    rec.request("wrong", ms);
    fail(t, `${phase}: a wrong answer`, n);
  } else rec.request("ok", ms);
  t.slowestAnswerMs = Math.max(t.slowestAnswerMs, ms);
}

/**
 * Runs the script on `fs` (wrapped so the moment the fault fires is known); returns the contents whose record
 * reached its place (renamed) before the server closed: answers are given before their record is written
 * (src/server/caching-inference.ts), so only those must survive. After the start-up scan and after every
 * request it looks for the server's report of the fault: an I/O error log line, or an I/O error counted in
 * /metrics.
 */
async function faultedRun(
  script: string[],
  dir: string,
  fs: CacheFs,
  codes: readonly string[],
  rec: CaseRecorder,
  t: Tally,
  n: number,
): Promise<{ durable: Set<string> }> {
  const clock = new FaultClockFs(fs, codes);
  const s = await startInProcess(dir, clock, engine);
  const answered = new Set<string>();
  let countedAt: number | null = null;
  const look = async () => {
    if (countedAt === null && ((await s.ioErrorsCounted()) ?? 0) > 0) countedAt = performance.now();
  };
  try {
    await s.settled();
    await look();
    for (const content of script) {
      const start = performance.now();
      const res = await s.ask(content);
      judge(rec, t, n, content, res, performance.now() - start, "with the fault");
      if (res.status === 200 && res.hit === false) answered.add(content);
      await look();
    }
    await look();
  } finally {
    // Closing lets the writes behind the answers finish (bounded) before the run is judged: their failures
    // are logged by then.
    await s.close();
  }
  const firedAt = clock.firstFailureAt;
  if (firedAt !== null) {
    const logged = s.logs.findIndex((l) => REPORT_LOGS.some((m) => l.includes(m)));
    const reports = [logged >= 0 ? (s.logTimes[logged] as number) : null, countedAt].filter((x): x is number => x !== null);
    if (reports.length === 0) t.silent.push(n);
    else t.detectMs.push(Math.max(0, Math.min(...reports) - firedAt));
  }
  return { durable: new Set([...answered].filter((c) => clock.renamedTo.has(join(recordDir(dir), `${keyOf({ fingerprint }, askBody(c))}.rec`)))) };
}

/** The same directory on a healthy disk: nothing valid lost, nothing torn kept. */
async function reopen(script: string[], dir: string, rec: CaseRecorder, t: Tally, n: number, mustHit: Set<string>): Promise<void> {
  const start = performance.now();
  const s = await startInProcess(dir, nodeCacheFs, engine);
  try {
    await s.settled();
    for (const content of new Set(script)) {
      const t0 = performance.now();
      const res = await s.ask(content);
      if (content === script[0]) t.slowestReopenMs = Math.max(t.slowestReopenMs, performance.now() - start);
      judge(rec, t, n, content, res, performance.now() - t0, "after reopening");
      if (mustHit.has(content) && res.hit !== true) fail(t, "after reopening: a record that existed (or was completely written before the fault) was lost", n);
    }
  } finally {
    // Closing lets this server's own writes behind its answers finish: what is left then is left for good.
    await s.close();
  }
  if ((await tempFiles(recordDir(dir))).length > 0) fail(t, "after reopening: a temp file of a failed write survived", n);
  if ((await undecodableRecords(recordDir(dir), engine.info().fingerprint, new Set())).length > 0) fail(t, "after reopening: an undecodable record file was kept", n);
}

const list = (ns: number[]) => `${ns.slice(0, 12).join(", ")}${ns.length > 12 ? ", …" : ""}`;

/** The checks, the notes and the times: detect is the slowest report of a fault; recover the slowest reopen. */
function report(rec: CaseRecorder, t: Tally, what: string[], runs: number, opName: (n: number) => string): void {
  for (const w of what) {
    const ns = t.failures.get(w) ?? [];
    rec.check(ns.length === 0, w.replace(/^(.*?): /, "$1, never: "), ns.length ? `at N = ${list(ns)}` : "");
  }
  for (const [w, ns] of t.failures) if (!what.includes(w)) rec.check(false, w, `at N = ${list(ns)}`);
  const kinds = [...new Set(t.silent.map(opName))];
  rec.check(
    t.silent.length === 0,
    "every injected fault was reported: an I/O error logged, or counted in /metrics (gauntlet_cache_*errors_total)",
    `${t.silent.length} of ${t.silent.length + t.detectMs.length} were neither logged nor counted, at N = ${list(t.silent)} (${kinds.join(", ")})`,
    `${t.detectMs.length} of ${t.detectMs.length} reported`,
  );
  const slowestDetect = t.detectMs.length > 0 ? Math.max(...t.detectMs) : null;
  rec.note(
    `${runs} faulted runs; slowest report of a fault ${slowestDetect === null ? "none" : `${Math.round(slowestDetect)} ms`} after it fired; ` +
      `slowest answer under a fault ${Math.round(t.slowestAnswerMs)} ms; slowest reopen to first answer ${Math.round(t.slowestReopenMs)} ms`,
  );
  if (slowestDetect !== null) rec.detected(slowestDetect);
  rec.recovered(t.slowestReopenMs);
}

const CHECKS = [
  "with the fault: a request was not answered 200",
  "with the fault: a wrong answer",
  "after reopening: a record that existed (or was completely written before the fault) was lost",
  "after reopening: a temp file of a failed write survived",
  "after reopening: an undecodable record file was kept",
];


export const ioErrorSweep: ChaosStep<SweepContext> = {
  cases: [
    {
      name: "disk-eio-every-op",
      description: "EIO injected at the Nth response-cache file operation of a short run (start-up scan, hits, misses, writes), for every N",
      expected:
        "every request of every run answered 200 with the right text; every injected EIO reported (logged or counted in /metrics); reopened on a healthy disk, both records that existed before are hits, no temp file or undecodable record kept (detect: the slowest time from the failing operation to its report)",
      detectWithinMs: 5_000,
      recoverWithinMs: 10_000,
      recoverNotApplicable: "one failed file operation interrupts no service: every request of the run is checked to be answered right, and the reopened cache to have lost nothing",
    },
  ],
  timeoutMs: 240_000,
  async run(ctx, rec, signal) {
    const r = rec("disk-eio-every-op");
    const script = scriptFor(ctx.quick);
    const base = await template(ctx.root);
    const recording = new RecordingFs(nodeCacheFs);
    const probe = new FaultInjectingFs(recording);
    const probeDir = join(ctx.root, "probe");
    await cp(base, probeDir, { recursive: true });
    const t = newTally();
    await faultedRun(script, probeDir, probe, ["EIO"], r, t, 0);
    const total = probe.totalOps;
    for (let n = 1; n <= total + 1 && !signal.aborted; n++) {
      const dir = join(ctx.root, `eio-${n}`);
      await cp(base, dir, { recursive: true });
      const fs = new FaultInjectingFs(nodeCacheFs);
      fs.inject({ op: "any", code: "EIO", after: n, times: 1 });
      await faultedRun(script, dir, fs, ["EIO"], r, t, n);
      await reopen(script, dir, r, t, n, new Set(SEEDED));
      await rm(dir, { recursive: true, force: true });
    }
    r.note(`a clean run makes ${total} file operations (${[...new Set(recording.ops)].join(", ")}); faulted runs N = 1..${total + 1}`);
    report(r, t, CHECKS, total + 1, (n) => recording.ops[n - 1] ?? "?");
  },
};


export const powerLossSweep: ChaosStep<SweepContext> = {
  cases: [
    {
      name: "disk-power-cut-every-write",
      description: "a power cut at the Wth record write of a short run (0, 17 or 150 bytes of it land, then every file operation fails), for every W",
      expected:
        "every request still answered 200 with the right text (without the disk); the failing disk reported (logged or counted; detect: from the cut to the report); reopened on a healthy disk, every record that existed or was completely written (renamed into place) before the cut is a hit, the torn write is never accepted, no temp file kept (recover: the slowest reopen to its first answer)",
      detectWithinMs: 5_000,
      recoverWithinMs: 10_000,
    },
  ],
  timeoutMs: 240_000,
  async run(ctx, rec, signal) {
    const r = rec("disk-power-cut-every-write");
    const script = scriptFor(ctx.quick);
    const base = await template(ctx.root);
    const probe = new FaultInjectingFs(nodeCacheFs);
    const probeDir = join(ctx.root, "probe-writes");
    await cp(base, probeDir, { recursive: true });
    const t = newTally();
    await faultedRun(script, probeDir, probe, ["ECRASHED"], r, t, 0);
    const writes = probe.counts.write;
    for (let w = 1; w <= writes && !signal.aborted; w++) {
      const dir = join(ctx.root, `cut-${w}`);
      await cp(base, dir, { recursive: true });
      const fs = new PowerCutFs(new FaultInjectingFs(nodeCacheFs), w, [0, 17, 150][w % 3] as number);
      const run = await faultedRun(script, dir, fs, ["ECRASHED"], r, t, w);
      await reopen(script, dir, r, t, w, new Set([...SEEDED, ...run.durable]));
      await rm(dir, { recursive: true, force: true });
    }
    r.note(`a clean run makes ${writes} record writes; a power cut was simulated at each`);
    report(r, t, CHECKS, writes, (w) => `write ${w}`);
  },
};

/** Without root there is no tmpfs: the full disk is injected (ENOSPC on every write) and then lifted. */
export const diskFullInjected: ChaosStep<SweepContext> = {
  cases: [
    {
      name: "disk-full",
      description: "no space left (injected: every response-cache write fails with ENOSPC; no tmpfs without root), then space comes back",
      expected: "every request answered with the right text while full, ENOSPC logged (detect), no torn record or temp file; new records stored again once space is back (recover: from lifting the fault to the first new record on disk)",
      detectWithinMs: 10_000,
      recoverWithinMs: 20_000,
    },
  ],
  timeoutMs: 60_000,
  async run(ctx, rec) {
    const r = rec("disk-full");
    const dir = await mkdtemp(join(ctx.root, "full-"));
    let full = false;
    const fs = new FaultInjectingFs(nodeCacheFs);
    fs.inject({ op: "write", code: "ENOSPC", times: Number.MAX_SAFE_INTEGER, match: () => full });
    const s = await startInProcess(dir, fs, engine);
    const t = newTally();
    const records = async () => (await listNames(recordDir(dir))).filter((n) => n.endsWith(".rec")).length;
    try {
      await s.settled();
      full = true;
      const t0 = performance.now();
      for (const c of ["full 1", "full 2", "full 3"]) {
        const start = performance.now();
        judge(r, t, 0, c, await s.ask(c), performance.now() - start, "while full");
        if (s.logs.some((l) => l.includes("ENOSPC"))) r.detected(performance.now() - t0);
      }
      r.check(s.logs.some((l) => l.includes("ENOSPC")), "ENOSPC was logged (errors counted)");
      r.check((await tempFiles(recordDir(dir))).length === 0 && (await records()) === 0, "no record or temp file of the failed writes left behind");
      full = false;
      const freed = performance.now();
      let stored = false;
      for (let i = 0; !stored && performance.now() - freed < 20_000; i++) {
        const c = `after full ${i}`;
        const start = performance.now();
        judge(r, t, 0, c, await s.ask(c), performance.now() - start, "after space came back");
        stored = (await records()) > 0;
        if (stored) r.recovered(performance.now() - freed);
        else await new Promise((res) => setTimeout(res, 50));
      }
      r.check(stored, "new records are stored again once space is back");
      r.check((await undecodableRecords(recordDir(dir), engine.info().fingerprint, new Set())).length === 0, "every record file on disk decodes");
    } finally {
      await s.close();
    }
    for (const [w] of t.failures) r.check(false, w);
  },
};

export async function sweepRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), "gauntlet-chaos-sweep-"));
}
