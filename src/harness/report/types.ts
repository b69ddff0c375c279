import type { HistogramSummary } from "../stats/histogram.js";
import type { GateVerdict } from "../gates/evaluate.js";

/** Percentile summary of one latency metric, in milliseconds (null fields when no samples). */
export type LatencySummary = HistogramSummary;

export type ReportKind = "stress" | "soak" | "chaos" | "gate";
export type RunVerdict = "pass" | "fail" | "invalid";

export interface ModelInfo {
  id: string;
  sha256: string;
  sizeBytes: number;
}

export interface EnvironmentInfo {
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  os: string;
  gitCommit: string | null;
  model: ModelInfo | null;
  config: Record<string, unknown>;
}

export interface RequestCounts {
  total: number;
  ok: number;
  failed: number;
  /** Requests that completed but whose answer failed the scenario's check. */
  wrongAnswers: number;
}

export interface ScenarioReport {
  name: string;
  description: string;
  requests: RequestCounts;
  /** ok / total in 0..1; null when no request was made. */
  successRate: number | null;
  throughputRps: number | null;
  /** End-to-end latency (request sent to last byte). */
  latencyMs: LatencySummary;
  /** Time to first content chunk. */
  ttftMs?: LatencySummary;
  /** Inter-token latency between content chunks. */
  itlMs?: LatencySummary;
  /** (E2E - TTFT) / (output tokens - 1), tokens from the server's usage. */
  tpotMs?: LatencySummary;
  errorsByKind: Record<string, number>;
  /**
   * Every metric a gate expression can name for this scenario (latency and streaming percentiles, counts,
   * memory growth, timing reconciliation, Little's law error, harness figures...), null when not measured.
   */
  metrics?: Record<string, number | null>;
  notes: string[];
}

export interface GateResult {
  id: string;
  /** Scenario the gate applies to, or null for a run-wide gate. */
  scenario: string | null;
  expression: string;
  verdict: GateVerdict;
  values: Record<string, number | null>;
  detail: string;
}

export interface MemorySample {
  /** Milliseconds since the run started (monotonic). */
  tMs: number;
  rssBytes: number;
  heapUsedBytes?: number;
  externalBytes?: number;
}

export interface LatencySample {
  tMs: number;
  p50: number | null;
  p95: number | null;
}

export interface Marker {
  tMs: number;
  label: string;
}

/** A straight line drawn on the memory chart, e.g. a soak's Theil-Sen fit over its post-warm-up span. */
export interface MemoryFit {
  label: string;
  fromMs: number;
  fromBytes: number;
  toMs: number;
  toBytes: number;
  /** The fit's slope interval at toMs: a band fanning out from (fromMs, fromBytes). */
  lowToBytes?: number;
  highToBytes?: number;
}

/** Latency over time of one lane of requests (e.g. a soak's canary), one point per window. */
export interface LaneSeries {
  name: string;
  points: LatencySample[];
}

/** p95/p50 per latency window, one line per class (e.g. a soak's prompt sizes), with the limit. */
export interface StabilitySeries {
  maxRatio: number;
  classes: { label: string; points: { tMs: number; ratio: number }[] }[];
}

export interface ReportSeries {
  memory: MemorySample[];
  latency: LatencySample[];
  /** Events drawn on time charts, e.g. the end of warm-up. */
  markers?: Marker[];
  /** Fitted lines on the memory chart (soak: what the leak verdict fitted to RSS, the judged series). */
  memoryFits?: MemoryFit[];
  /** One latency-over-time chart per lane. */
  lanes?: LaneSeries[];
  /** What the latency-stability verdict judged. */
  stability?: StabilitySeries;
}

export type BaselineChange = "better" | "same" | "worse" | "unknown";

export interface BaselineComparison {
  scenario: string | null;
  metric: string;
  baseline: number | null;
  current: number | null;
  /** (current - baseline) / baseline * 100; null when undefined. */
  changePct: number | null;
  verdict: BaselineChange;
  /** Optional significance of the difference (e.g. Mann-Whitney p-value). */
  pValue?: number | null;
}

export interface BaselineInfo {
  name: string;
  /** Where the baseline came from (path or run id). */
  source: string | null;
  startedAt: string | null;
  comparisons: BaselineComparison[];
}

export interface RunReport {
  schemaVersion: 1;
  tool: { name: "gauntlet"; version: string };
  kind: ReportKind;
  name: string;
  /** ISO 8601 wall-clock timestamps. */
  startedAt: string;
  finishedAt: string;
  /** Monotonic duration of the run. */
  durationMs: number;
  verdict: RunVerdict;
  /** Why the run is invalid (e.g. the harness could not keep its schedule); empty otherwise. */
  invalidReasons: string[];
  environment: EnvironmentInfo;
  scenarios: ScenarioReport[];
  gates: GateResult[];
  series?: ReportSeries;
  baseline?: BaselineInfo;
}
