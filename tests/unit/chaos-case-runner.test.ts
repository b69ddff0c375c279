/** The chaos case runner: bounds, failures, crashes and the report entries and gates it produces. */
import { describe, expect, test } from "vitest";
import { CaseRecorder, caseGates, caseOutcome } from "../../src/harness/chaos/case-recorder.js";
import type { CaseSpec } from "../../src/harness/chaos/case-recorder.js";
import { runGroups } from "../../src/harness/chaos/case-runner.js";
import type { StepGroup } from "../../src/harness/chaos/case-runner.js";
import { assembleReport } from "../../src/harness/runner/assemble-report.js";
import { validateReport } from "../../src/harness/report/index.js";

const spec = (name: string): CaseSpec => ({ name, description: `${name} fault`, expected: "a clean answer", detectWithinMs: 1000, recoverWithinMs: 2000 });

interface Fake {
  up: boolean;
  restarts: number;
}

function group(steps: StepGroup<Fake>["steps"], opts: { setupFails?: boolean } = {}): StepGroup<Fake> & { state: Fake; tornDown: boolean } {
  const state: Fake = { up: true, restarts: 0 };
  const g = {
    name: "fake",
    state,
    tornDown: false,
    steps,
    async setup() {
      if (opts.setupFails) throw new Error("the server would not start");
      return state;
    },
    alive: async (c: Fake) => c.up,
    async recover(c: Fake) {
      c.restarts++;
      c.up = true;
      return c;
    },
    async teardown() {
      g.tornDown = true;
    },
  };
  return g;
}

const noProgress = { line: () => undefined };

describe("chaos case runner", () => {
  test("a passing case: checks, requests, times become a scenario and five green gates", async () => {
    const g = group([
      {
        cases: [spec("good")],
        timeoutMs: 5000,
        async run(_c, rec) {
          const r = rec("good");
          r.request("ok", 12);
          r.request("ok", 30);
          r.check(true, "answered 200 with the reference text");
          r.detected(5);
          r.recovered(40);
          r.note("something worth saying");
        },
      },
    ]);
    const [result] = await runGroups([g], noProgress);
    expect(g.tornDown).toBe(true);
    const outcome = caseOutcome(result!);
    expect(outcome.report.requests).toEqual({ total: 2, ok: 2, failed: 0, wrongAnswers: 0 });
    expect(outcome.report.notes.join("\n")).toMatch(/✓ answered 200 with the reference text/);
    expect(outcome.report.notes.join("\n")).toMatch(/time to detect 5 ms.*time to recover 40 ms/s);
    expect(outcome.metrics).toMatchObject({ checks_failed: 0, server_crashes: 0, time_to_detect_ms: 5, time_to_recover_ms: 40 });
    const report = assembleReport({
      kind: "chaos", name: "t", toolVersion: "0", startedAt: new Date(0), finishedAt: new Date(1), durationMs: 1,
      environment: { node: "v", platform: "p", arch: "a", cpuModel: "c", cores: 1, totalMemoryBytes: 1, os: "o", gitCommit: null, model: null, config: {} },
      stages: [{ scenarios: [outcome], gates: caseGates(result!.spec), runMetrics: {}, invalid: [], memory: [], latency: [], markers: [], model: null, config: {} }],
      invalid: [], baseline: null,
    });
    expect(validateReport(report)).toEqual([]);
    expect(report.gates.map((x) => [x.id, x.verdict])).toEqual([
      ["good/expected", "pass"],
      ["good/correct", "pass"],
      ["good/no-crash", "pass"],
      ["good/detect", "pass"],
      ["good/recover", "pass"],
    ]);
    expect(report.verdict).toBe("pass");
  });

  test("a failed check, a wrong answer and a slow recovery each turn their gate red", async () => {
    const g = group([
      {
        cases: [spec("bad")],
        timeoutMs: 5000,
        async run(_c, rec) {
          const r = rec("bad");
          r.request("wrong", 10);
          r.check(false, "the record was quarantined", "it was still in place");
          r.detected(1);
          r.recovered(99_999);
        },
      },
    ]);
    const [result] = await runGroups([g], noProgress);
    const m = caseOutcome(result!).metrics;
    expect(m.checks_failed).toBe(1);
    expect(caseOutcome(result!).report.requests.wrongAnswers).toBe(1);
    expect(caseOutcome(result!).report.notes.join("\n")).toMatch(/✗ the record was quarantined: it was still in place/);
  });

  test("a step that throws or overruns fails its cases with the reason; the next steps still run", async () => {
    const ran: string[] = [];
    const g = group([
      { cases: [spec("throws")], timeoutMs: 5000, run: async () => { ran.push("throws"); throw new Error("boom"); } },
      { cases: [spec("slow")], timeoutMs: 30, run: async (_c, _r, signal) => { ran.push("slow"); await new Promise((r) => signal.addEventListener("abort", r)); } },
      { cases: [spec("after")], timeoutMs: 5000, run: async (_c, rec) => { ran.push("after"); rec("after").request("ok", 1); rec("after").check(true, "fine"); } },
    ]);
    const results = await runGroups([g], noProgress);
    expect(ran).toEqual(["throws", "slow", "after"]);
    const byName = Object.fromEntries(results.map((r) => [r.spec.name, caseOutcome(r)]));
    expect(byName.throws!.metrics.checks_failed).toBe(1);
    expect(byName.throws!.report.notes.join("\n")).toMatch(/boom/);
    expect(byName.slow!.report.notes.join("\n")).toMatch(/did not finish within 30 ms/);
    expect(byName.after!.metrics.checks_failed).toBe(0);
  });

  test("a step that overruns is cancelled through its signal and has stopped before the next step starts", async () => {
    const events: string[] = [];
    const g = group([
      {
        cases: [spec("overruns")],
        timeoutMs: 30,
        run: async (_c, _r, signal) => {
          events.push("overruns: start");
          // Cleaning up after the abort takes a while: the next step must wait for it.
          await new Promise((r) => signal.addEventListener("abort", r));
          await new Promise((r) => setTimeout(r, 50));
          events.push("overruns: stopped");
        },
      },
      { cases: [spec("next")], timeoutMs: 5000, run: async (_c, rec) => { events.push("next: start"); rec("next").check(true, "fine"); } },
    ]);
    const results = await runGroups([g], noProgress);
    expect(events).toEqual(["overruns: start", "overruns: stopped", "next: start"]);
    expect(caseOutcome(results[0]!).report.notes.join("\n")).toMatch(/did not finish within 30 ms.*cancelled/);
  });

  test("a step that ignores its cancellation is never overlapped: the group's later steps are not run", async () => {
    const events: string[] = [];
    let finish!: () => void;
    const g = group([
      {
        cases: [spec("deaf")],
        timeoutMs: 30,
        run: async () => {
          events.push("deaf: start");
          await new Promise<void>((r) => (finish = r));
          events.push("deaf: stopped");
        },
      },
      { cases: [spec("later")], timeoutMs: 5000, run: async (_c, rec) => { events.push("later: start"); rec("later").check(true, "fine"); } },
    ]);
    const results = await runGroups([g], { ...noProgress, cancelGraceMs: 50 });
    finish();
    expect(events).toEqual(["deaf: start"]);
    expect(g.tornDown).toBe(true);
    const later = caseOutcome(results.find((r) => r.spec.name === "later")!);
    expect(later.report.requests.total).toBe(0);
    expect(later.report.notes.join("\n")).toMatch(/not run: .*deaf.* could not be cancelled/);
    expect(caseOutcome(results[0]!).report.notes.join("\n")).toMatch(/did not stop within 50 ms of its cancellation/);
  });

  test("a server found dead after a step counts a crash for that step's cases and is restarted for the next", async () => {
    const g = group([
      { cases: [spec("kills")], timeoutMs: 5000, run: async (c, rec) => { rec("kills").request("ok", 1); c.up = false; } },
      { cases: [spec("next")], timeoutMs: 5000, run: async (c, rec) => { rec("next").request(c.up ? "ok" : "failed", 1); } },
    ]);
    const results = await runGroups([g], noProgress);
    expect(g.state.restarts).toBe(1);
    expect(caseOutcome(results[0]!).metrics.server_crashes).toBe(1);
    expect(caseOutcome(results[1]!).metrics.server_crashes).toBe(0);
    expect(results[1]!.requests.ok).toBe(1);
  });

  test("a group whose server never starts reports its cases as not run (no requests: every gate unavailable)", async () => {
    const g = group([{ cases: [spec("never")], timeoutMs: 5000, run: async () => undefined }], { setupFails: true });
    const [result] = await runGroups([g], noProgress);
    const outcome = caseOutcome(result!);
    expect(outcome.report.requests.total).toBe(0);
    expect(outcome.report.notes.join("\n")).toMatch(/not run: .*would not start/);
  });

  test("a case that never measured its detection time reports null, so its gate is unavailable (red)", async () => {
    const g = group([{ cases: [spec("silent")], timeoutMs: 5000, run: async (_c, rec) => { rec("silent").request("ok", 1); } }]);
    const [result] = await runGroups([g], noProgress);
    expect(caseOutcome(result!).metrics.time_to_detect_ms).toBeNull();
  });

  test("a time that does not apply to a case is reported as not applicable, with the reason, and has no gate", async () => {
    const na: CaseSpec = { ...spec("na"), recoverNotApplicable: "the fault never interrupts service" };
    const g = group([{ cases: [na], timeoutMs: 5000, run: async (_c, rec) => { rec("na").request("ok", 1); rec("na").detected(3); } }]);
    const [result] = await runGroups([g], noProgress);
    const outcome = caseOutcome(result!);
    expect(outcome.metrics.time_to_recover_ms).toBeNull();
    expect(outcome.report.notes.join("\n")).toMatch(/time to recover not applicable: the fault never interrupts service/);
    expect(caseGates(na).map((x) => x.id)).toEqual(["na/expected", "na/correct", "na/no-crash", "na/detect"]);
  });

  test("an aborted run stops before the next step and says so", async () => {
    const ac = new AbortController();
    const g = group([
      { cases: [spec("first")], timeoutMs: 5000, run: async (_c, rec) => { rec("first").request("ok", 1); ac.abort(); } },
      { cases: [spec("second")], timeoutMs: 5000, run: async (_c, rec) => { rec("second").request("ok", 1); } },
    ]);
    const results = await runGroups([g], { ...noProgress, signal: ac.signal });
    expect(results.find((r) => r.spec.name === "second")!.requests.ok).toBe(0);
    expect(caseOutcome(results.find((r) => r.spec.name === "second")!).report.notes.join("\n")).toMatch(/interrupted/);
  });

  test("a background group runs alongside the others; results keep the groups' order", async () => {
    let signalFromBackground!: () => void;
    const backgroundRan = new Promise<void>((r) => (signalFromBackground = r));
    const fg = group([
      {
        cases: [spec("foreground")],
        timeoutMs: 5000,
        // Finishes only once the background group's step has run: sequential groups would overrun here.
        run: async (_c, rec) => {
          await backgroundRan;
          rec("foreground").request("ok", 1);
        },
      },
    ]);
    const bg = {
      ...group([{ cases: [spec("background")], timeoutMs: 5000, run: async (_c, rec) => { rec("background").request("ok", 1); signalFromBackground(); } }]),
      background: true,
    };
    const results = await runGroups([fg, bg], noProgress);
    expect(results.map((r) => [r.spec.name, r.requests.ok])).toEqual([["foreground", 1], ["background", 1]]);
    expect(caseOutcome(results[0]!).metrics.checks_failed).toBe(0);
  });
});

