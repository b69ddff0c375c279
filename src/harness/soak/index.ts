/** Soak-run statistics and crash-safe journal (library level). */
export { theilSen, kendallVariance, PAIRS_METHOD_MAX_POINTS } from "./theil-sen.js";
export type { Point, TheilSenFit, TheilSenMethod, TheilSenOptions } from "./theil-sen.js";
export { detectWarmup } from "./warmup.js";
export type { WarmupOptions, WarmupResult } from "./warmup.js";
export { judgeMemory } from "./leak-verdict.js";
export type { JudgeMemoryOptions, MemorySample, MemoryVerdict, Verdict } from "./leak-verdict.js";
export { judgeWindows, latencyWindowsFrom } from "./latency-gate.js";
export type { BadWindow, LatencyGateOptions, LatencyGateResult, LatencyWindowStats } from "./latency-gate.js";
export { createWindowAggregator, memorySamplesFromWindows } from "./window.js";
export type {
  CanaryResult,
  HistogramFactory,
  HistogramLike,
  MemoryReading,
  MemoryStat,
  RequestOutcome,
  ValueSummary,
  WindowAggregator,
  WindowAggregatorOptions,
  WindowRecord,
} from "./window.js";
export { openJournal, readJournal, parseJournal, encodeJournalLine, writeFileAtomic } from "./journal.js";
export type { Journal, JournalEntry, JournalEntryType, JournalInput, JournalOptions, JournalReadResult, SkippedLine } from "./journal.js";
export { nodeSoakFs } from "./soak-fs.js";
export type { SoakFileHandle, SoakFs } from "./soak-fs.js";
