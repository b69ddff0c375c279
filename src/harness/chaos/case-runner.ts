/**
 * Runs chaos steps group by group. A group is a server configuration (set up once, torn down at the
 * end, always); a step runs one or more cases against it. Every step is bounded in time (it is
 * told to stop through its signal when it overruns); a step that throws or overruns fails its
 * cases with the reason and the run goes on. After each step the server must still be alive: if it
 * died, that step's cases count a crash and the server is brought back for the next step.
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
}

const message = (err: unknown) => String((err as Error)?.message ?? err).split("\n")[0] ?? "error";

function notRun(step: { cases: CaseSpec[] }, reason: string): CaseResult[] {
  return step.cases.map((spec) => {
    const rec = new CaseRecorder(spec);
    rec.note(`not run: ${reason}`);
    return rec.result();
  });
}

async function runStep<C>(step: ChaosStep<C>, ctx: C, io: RunnerIo): Promise<CaseRecorder[]> {
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
  try {
    const outcome = await Promise.race([step.run(ctx, rec, ac.signal).then(() => "done" as const), overrun]);
    if (outcome === "overrun") failure = `the case did not finish within ${step.timeoutMs} ms`;
  } catch (err) {
    failure = `the case failed: ${message(err)}`;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  if (failure !== null) for (const r of recorders.values()) r.check(false, "the case ran to completion", failure);
  for (const r of recorders.values()) r.seal();
  return [...recorders.values()];
}

async function runGroup(group: StepGroup<any>, io: RunnerIo): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let ctx: unknown = null;
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
      if (ctx === null) {
        results.push(...notRun(step, `the ${group.name} server could not be brought back after a crash`));
        continue;
      }
      io.line(`chaos: ${step.cases.map((c) => c.name).join(", ")}`);
      const recorders = await runStep(step, ctx, io);
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
