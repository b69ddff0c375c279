/**
 * Folds request records into one scenario's figures as they complete: counts, errors by kind,
 * answer checks against the references, client/server timing reconciliation, and histograms of
 * E2E, TTFT, ITL, TPOT and the server's queue and total times. Memory stays bounded: histograms,
 * counters and a few examples, never the records themselves.
 */
import type { Answer, RequestRecord } from "../load/types.js";
import type { LatencySample, RequestCounts } from "../report/types.js";
import type { ValidityLimits } from "../scenarios/types.js";
import { LatencyHistogram } from "../stats/histogram.js";
import { checkAnswer } from "./answer-check.js";
import { describeMismatch, reconcileTimings } from "./reconcile.js";
import type { TimingPair } from "./reconcile.js";

const MAX_EXAMPLES = 3;

export interface AccumulatorOptions {
  /** Reference answers by request key; null when the scenario checks no answers. */
  references: ReadonlyMap<string, Answer> | null;
  tolerance: Pick<ValidityLimits, "timingToleranceMs" | "timingTolerancePct">;
}

export interface Accumulated {
  requests: RequestCounts;
  errorsByKind: Record<string, number>;
  latency: LatencyHistogram;
  ttft: LatencyHistogram;
  itl: LatencyHistogram;
  tpot: LatencyHistogram;
  queue: LatencyHistogram;
  serverTotal: LatencyHistogram;
  /** Responses whose client and server timings disagree beyond the tolerance. */
  timingMismatches: number;
  /** Completed responses that carried server timings to compare with. */
  timingsCompared: number;
  wrongExamples: string[];
  mismatchExamples: string[];
  distinctAnswers: number;
  outputTokens: number;
  /** Sum of the elapsed time of every request, failed ones included (Little's law). */
  elapsedTotalMs: number;
  /** Completed answers the server says came from its response cache. */
  cacheHits: number;
  /** Run-clock times of the first send and the last completion; null with no requests. */
  firstSentAt: number | null;
  lastDoneAt: number | null;
}

export class ScenarioAccumulator {
  readonly #opts: AccumulatorOptions;
  readonly #acc: Accumulated;
  readonly #answers = new Set<string>();
  #window = new LatencyHistogram();

  constructor(opts: AccumulatorOptions) {
    this.#opts = opts;
    const h = () => new LatencyHistogram();
    this.#acc = {
      requests: { total: 0, ok: 0, failed: 0, wrongAnswers: 0 }, errorsByKind: {},
      latency: h(), ttft: h(), itl: h(), tpot: h(), queue: h(), serverTotal: h(),
      timingMismatches: 0, timingsCompared: 0, wrongExamples: [], mismatchExamples: [], distinctAnswers: 0, outputTokens: 0, cacheHits: 0, elapsedTotalMs: 0,
      firstSentAt: null, lastDoneAt: null,
    };
  }

  add(rec: RequestRecord): void {
    const a = this.#acc;
    a.requests.total++;
    a.elapsedTotalMs += rec.elapsedMs;
    a.firstSentAt = a.firstSentAt === null ? rec.sentAt : Math.min(a.firstSentAt, rec.sentAt);
    a.lastDoneAt = Math.max(a.lastDoneAt ?? rec.sentAt, rec.sentAt + rec.elapsedMs);
    if (rec.error !== null || rec.answer === null) {
      const kind = rec.error ?? "no-answer";
      a.requests.failed++;
      a.errorsByKind[kind] = (a.errorsByKind[kind] ?? 0) + 1;
      return;
    }
    this.#time(rec);
    const refs = this.#opts.references;
    const reference = refs === null ? null : (refs.get(rec.key) ?? undefined);
    if (reference === undefined) {
      a.requests.failed++;
      a.errorsByKind["no-reference"] = (a.errorsByKind["no-reference"] ?? 0) + 1;
      return;
    }
    const verdict = checkAnswer(rec.answer, reference);
    if (verdict.ok) a.requests.ok++;
    else {
      a.requests.wrongAnswers++;
      if (a.wrongExamples.length < MAX_EXAMPLES) a.wrongExamples.push(`request ${rec.index} (${rec.key}): ${verdict.reason}`);
    }
  }

  #time(rec: RequestRecord): void {
    const a = this.#acc;
    const answer = rec.answer!;
    a.latency.record(rec.elapsedMs);
    this.#window.record(rec.elapsedMs);
    if (rec.ttftMs !== null) a.ttft.record(rec.ttftMs);
    for (const gap of rec.itlMs) a.itl.record(gap);
    const tokens = answer.completionTokens;
    if (tokens !== null) a.outputTokens += tokens;
    if (rec.cacheHit === true) a.cacheHits++;
    if (rec.ttftMs !== null && tokens !== null && tokens > 1) a.tpot.record(Math.max(0, rec.elapsedMs - rec.ttftMs) / (tokens - 1));
    if (this.#answers.size < 10_000) this.#answers.add(`${rec.key}\u0000${answer.text}`);
    a.distinctAnswers = this.#answers.size;
    const s = rec.server;
    if (s?.queueMs != null) a.queue.record(Math.max(0, s.queueMs));
    if (s?.totalMs == null) return;
    a.serverTotal.record(Math.max(0, s.totalMs));
    a.timingsCompared++;
    const pairs: TimingPair[] = [{ what: "e2e", clientMs: rec.elapsedMs, serverMs: s.totalMs }];
    if (rec.ttftMs !== null && s.ttftMs !== null) pairs.push({ what: "ttft", clientMs: rec.ttftMs, serverMs: s.ttftMs });
    const mismatches = pairs.map((p) => reconcileTimings(p, this.#opts.tolerance)).filter((m) => m !== null);
    if (mismatches.length > 0) {
      a.timingMismatches++;
      if (a.mismatchExamples.length < MAX_EXAMPLES) a.mismatchExamples.push(`request ${rec.index}: ${mismatches.map(describeMismatch).join("; ")}`);
    }
  }

  /** Completed requests so far and the p50/p95 of all of them (for the progress line). */
  live(): { done: number; p50: number | null; p95: number | null } {
    return { done: this.#acc.requests.total, p50: this.#acc.latency.percentile(50), p95: this.#acc.latency.percentile(95) };
  }

  /** p50/p95 of the requests completed since the previous call, as a time-series point. */
  takeWindow(tMs: number): LatencySample {
    const w = this.#window;
    this.#window = new LatencyHistogram();
    return { tMs, p50: w.percentile(50), p95: w.percentile(95) };
  }

  result(): Accumulated {
    return this.#acc;
  }
}
