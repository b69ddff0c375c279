/**
 * What one chaos case found: its checks (each an expectation that held or not), the requests it
 * made (ok, failed, wrong answer), its time to detect and time to recover, server crashes and
 * notes; and how that becomes a scenario of the report with its gates.
 *
 * Every case gets the same five gates, so reports read alike:
 *   expected    checks_failed == 0          every expectation of the case held
 *   correct     wrong_answers == 0          no answer differed from the reference
 *   no-crash    server_crashes == 0         the server process never died on its own
 *   detect      time_to_detect_ms <= D      the fault was noticed (error answered, record quarantined...) in time
 *   recover     time_to_recover_ms <= R     normal service was back (a correct answer, nothing in flight) in time
 * A time that was never measured is null, so its gate is unavailable: red, never green by omission.
 * A time that means nothing for a case (no outage to recover from, say) is declared not applicable in
 * its spec, with the reason: then it has no gate and the report says why.
 */
import { parseGate } from "../gates/index.js";
import type { ScenarioReport } from "../report/types.js";
import type { GateSpec } from "../runner/gates.js";
import type { ScenarioOutcome } from "../runner/scenario-outcome.js";
import { LatencyHistogram } from "../stats/histogram.js";

export interface CaseSpec {
  name: string;
  /** The fault, in one sentence. */
  description: string;
  /** The outcome the server owes, in one sentence. */
  expected: string;
  detectWithinMs: number;
  recoverWithinMs: number;
  /** Why time to detect does not apply to this case (then it has no detect gate). */
  detectNotApplicable?: string;
  /** Why time to recover does not apply to this case (then it has no recover gate). */
  recoverNotApplicable?: string;
}

export type RequestOutcome = "ok" | "failed" | "wrong";

export interface Check {
  ok: boolean;
  what: string;
  /** Shown when the check failed: what was seen instead. */
  detail: string;
  /** Shown when the check held: what was measured. */
  info: string;
}

export interface CaseResult {
  spec: CaseSpec;
  checks: Check[];
  requests: { ok: number; failed: number; wrong: number };
  latenciesMs: number[];
  errorsByKind: Record<string, number>;
  detectMs: number | null;
  recoverMs: number | null;
  serverCrashes: number;
  notes: string[];
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export class CaseRecorder {
  private readonly r: CaseResult;
  private sealed = false;

  constructor(spec: CaseSpec) {
    this.r = { spec, checks: [], requests: { ok: 0, failed: 0, wrong: 0 }, latenciesMs: [], errorsByKind: {}, detectMs: null, recoverMs: null, serverCrashes: 0, notes: [] };
  }

  get name(): string {
    return this.r.spec.name;
  }

  /** Records an expectation; returns `ok` so callers can branch on it. */
  check(ok: boolean, what: string, detail = "", info = ""): boolean {
    if (!this.sealed) this.r.checks.push({ ok, what, detail, info });
    return ok;
  }

  /** One request of the case; `kind` names an unexpected outcome (e.g. "status-500", "timeout"). */
  request(outcome: RequestOutcome, ms: number, kind?: string): void {
    if (this.sealed) return;
    this.r.requests[outcome]++;
    if (Number.isFinite(ms) && ms >= 0) this.r.latenciesMs.push(ms);
    if (outcome !== "ok") {
      const k = kind ?? (outcome === "wrong" ? "wrong-answer" : "unexpected");
      this.r.errorsByKind[k] = (this.r.errorsByKind[k] ?? 0) + 1;
    }
  }

  /** Time from the fault to the moment the server was seen handling it (first call wins). */
  detected(ms: number): void {
    if (!this.sealed && this.r.detectMs === null && Number.isFinite(ms)) this.r.detectMs = Math.max(0, ms);
  }

  /** Time from the fault (or its removal) until normal service was verified (first call wins). */
  recovered(ms: number): void {
    if (!this.sealed && this.r.recoverMs === null && Number.isFinite(ms)) this.r.recoverMs = Math.max(0, ms);
  }

  crashed(): void {
    this.r.serverCrashes++;
  }

  note(text: string): void {
    if (!this.sealed) this.r.notes.push(text);
  }

  /** Ends the case: a step still running after its bound can no longer change what was found. */
  seal(): void {
    this.sealed = true;
  }

  result(): CaseResult {
    return this.r;
  }
}

export function caseOutcome(result: CaseResult): ScenarioOutcome {
  const { spec, requests: q } = result;
  const total = q.ok + q.failed + q.wrong;
  const hist = new LatencyHistogram();
  for (const ms of result.latenciesMs) hist.record(ms);
  const failed = result.checks.filter((c) => !c.ok).length;
  const time = (what: string, ms: number | null, limit: number, na: string | undefined) =>
    na !== undefined ? `time to ${what} not applicable: ${na}` : `time to ${what} ${ms === null ? "not measured" : `${r1(ms)} ms`} (limit ${limit} ms)`;
  const notes = [
    `fault: ${spec.description}`,
    `expected: ${spec.expected}`,
    `${time("detect", result.detectMs, spec.detectWithinMs, spec.detectNotApplicable)}, ${time("recover", result.recoverMs, spec.recoverWithinMs, spec.recoverNotApplicable)}`,
    ...result.checks.map((c) => {
      const more = c.ok ? c.info : c.detail;
      return `${c.ok ? "✓" : "✗"} ${c.what}${more ? `: ${more}` : ""}`;
    }),
    ...(result.serverCrashes > 0 ? [`the server process died during this case (${result.serverCrashes}x) and was restarted for the next one`] : []),
    ...result.notes,
  ];
  const report: ScenarioReport = {
    name: spec.name,
    description: `${spec.description}. Expected: ${spec.expected}`,
    requests: { total, ok: q.ok, failed: q.failed, wrongAnswers: q.wrong },
    successRate: total > 0 ? q.ok / total : null,
    throughputRps: null,
    latencyMs: hist.summary(),
    errorsByKind: { ...result.errorsByKind },
    notes,
  };
  return {
    report,
    metrics: {
      checks_failed: failed,
      checks_passed: result.checks.length - failed,
      server_crashes: result.serverCrashes,
      time_to_detect_ms: result.detectMs === null || spec.detectNotApplicable !== undefined ? null : r1(result.detectMs),
      time_to_recover_ms: result.recoverMs === null || spec.recoverNotApplicable !== undefined ? null : r1(result.recoverMs),
    },
    invalid: [],
    series: [],
    markers: [],
    memory: [],
  };
}

export function caseGates(spec: CaseSpec): GateSpec[] {
  const table: [string, string][] = [
    ["expected", "checks_failed == 0"],
    ["correct", "wrong_answers == 0"],
    ["no-crash", "server_crashes == 0"],
    ...(spec.detectNotApplicable === undefined ? [["detect", `time_to_detect_ms <= ${spec.detectWithinMs}`] as [string, string]] : []),
    ...(spec.recoverNotApplicable === undefined ? [["recover", `time_to_recover_ms <= ${spec.recoverWithinMs}`] as [string, string]] : []),
  ];
  return table.map(([id, expr]) => ({ id: `${spec.name}/${id}`, scenario: spec.name, gate: parseGate(expr) }));
}
