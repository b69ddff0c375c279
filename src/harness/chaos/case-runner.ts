/**
 * Runs chaos steps group by group. A group is a server configuration (set up once, torn down at the
 * end, always); a step runs one or more cases against it. Every step is bounded in time: when it
 * overruns it is cancelled through its signal and the runner waits (up to cancelGraceMs) until it has
 * really stopped, so two steps never run at once against one server. A step that does not stop even
 * then leaves its group's later steps not run. A step that throws or overruns fails its cases with
 * the reason and the run goes on. After each step the server must still be alive: if it died, that
 * step's cases count a crash and the server is brought back for the next step.
 * Background groups run alongside the others; results come in group order either way.
 */
import { CaseRecorder } from "./case-recorder.js";
import type { CaseResult, CaseSpec } from "./case-recorder.js";

export interface ChaosStep<C> {
  /** The cases this step reports, one result each. */
  cases: CaseSpec[];
  timeoutMs: number;
  run(ctx: C, rec: (name: string) => CaseRecorder, signal: AbortSignal): Promise<void>;
}

export interface StepGroup<C> {
  name: string;
  steps: ChaosStep<C>[];
  setup(): Promise<C>;
  /** Whether the server is still up and answering after a step. */
  alive(ctx: C): Promise<boolean>;
  /** Brings a dead server back; throws when it cannot. */
  recover(ctx: C): Promise<C>;
  teardown(ctx: C | null): Promise<void>;
  /** Runs alongside the other groups (it needs no child server, e.g. the in-process sweeps). */
  background?: boolean;
}

export interface RunnerIo {
  line(text: string): void;
  signal?: AbortSignal;
  /** How long a cancelled step may take to stop (default 15 s). */
  cancelGraceMs?: number;
}

const CANCEL_GRACE_MS = 15_000;

const message = (err: unknown) => String((err as Error)?.message ?? err).split("\n")[0] ?? "error";

function notRun(step: { cases: CaseSpec[] }, reason: string): CaseResult[] {
  return step.cases.map((spec) => {
    const rec = new CaseRecorder(spec);
    rec.note(`not run: ${reason}`);
    return rec.result();
  });
}

/** The step's recorders, and whether it kept running after its cancellation (then nothing may follow it). */
async function runStep<C>(step: ChaosStep<C>, ctx: C, io: RunnerIo): Promise<{ recorders: CaseRecorder[]; runaway: boolean }> {
  const recorders = new Map(step.cases.map((s) => [s.name, new CaseRecorder(s)]));
  const rec = (name: string) => {
    const r = recorders.get(name);
    if (!r) throw new Error(`step reported an undeclared case ${JSON.stringify(name)}`);
    return r;
  };
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<"overrun">((resolve) => {
    timer = setTimeout(() => resolve("overrun"), step.timeoutMs);
  });
  let failure: string | null = null;
  let runaway = false;
  const running = Promise.resolve().then(() => step.run(ctx, rec, ac.signal));
  try {
    const outcome = await Promise.race([running.then(() => "done" as const), overrun]);
    if (outcome === "overrun") {
      ac.abort();
      const grace = io.cancelGraceMs ?? CANCEL_GRACE_MS;
      let graceTimer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        running.then(() => true, () => true),
        new Promise<false>((resolve) => (graceTimer = setTimeout(() => resolve(false), grace))),
      ]);
      clearTimeout(graceTimer);
      runaway = !stopped;
      failure = stopped
        ? `the case did not finish within ${step.timeoutMs} ms and was cancelled`
        : `the case did not finish within ${step.timeoutMs} ms and did not stop within ${grace} ms of its cancellation`;
    }
  } catch (err) {
    failure = `the case failed: ${message(err)}`;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  if (failure !== null) for (const r of recorders.values()) r.check(false, "the case ran to completion", failure);
  for (const r of recorders.values()) r.seal();
  return { recorders: [...recorders.values()], runaway };
}

async function runGroup(group: StepGroup<any>, io: RunnerIo): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let ctx: unknown = null;
  /** The cases of a step that did not stop when cancelled. */
  let runaway: string | null = null;
  try {
    if (io.signal?.aborted) {
      for (const step of group.steps) results.push(...notRun(step, "the run was interrupted"));
      return results;
    }
    io.line(`chaos: setting up ${group.name}`);
    try {
      ctx = await group.setup();
    } catch (err) {
      io.line(`chaos: ${group.name} could not be set up: ${message(err)}`);
      for (const step of group.steps) results.push(...notRun(step, `${group.name} could not be set up: ${message(err)}`));
      return results;
    }
    for (const [i, step] of group.steps.entries()) {
      if (io.signal?.aborted) {
        results.push(...notRun(step, "the run was interrupted"));
        continue;
      }
      if (runaway !== null) {
        results.push(...notRun(step, `the step of ${runaway} could not be cancelled; a later step would overlap it`));
        continue;
      }
      if (ctx === null) {
        results.push(...notRun(step, `the ${group.name} server could not be brought back after a crash`));
        continue;
      }
      io.line(`chaos: ${step.cases.map((c) => c.name).join(", ")}`);
      const ran = await runStep(step, ctx, io);
      const recorders = ran.recorders;
      if (ran.runaway) {
        runaway = step.cases.map((c) => c.name).join(", ");
        io.line(`chaos: ${runaway} did not stop when cancelled; the rest of ${group.name} is not run`);
      }
      if (!(await group.alive(ctx).catch(() => false))) {
        for (const r of recorders) {
          const result = r.result();
          result.serverCrashes++;
          result.checks.push({ ok: false, what: "the server was still up and answering after the case", detail: "it was not", info: "" });
        }
        if (i < group.steps.length - 1) {
          io.line(`chaos: the server died during ${step.cases.map((c) => c.name).join(", ")}; restarting it`);
          ctx = await group.recover(ctx).catch(() => null);
        }
      }
      results.push(...recorders.map((r) => r.result()));
    }
    return results;
  } finally {
    await group.teardown(ctx).catch((err: unknown) => io.line(`chaos: teardown of ${group.name} failed: ${message(err)}`));
  }
}

export async function runGroups(groups: readonly StepGroup<any>[], io: RunnerIo): Promise<CaseResult[]> {
  const background = groups.map((g) => (g.background ? runGroup(g, io) : null));
  const out: CaseResult[][] = [];
  for (const [i, g] of groups.entries()) if (!g.background) out[i] = await runGroup(g, io);
  for (const [i, run] of background.entries()) if (run) out[i] = await run;
  return out.flat();
}
