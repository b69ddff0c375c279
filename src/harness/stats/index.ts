export { assertPercentile, exactPercentile, nearestRank } from "./exact.js";
export type { HistogramJSON, HistogramOptions, HistogramSummary } from "./histogram.js";
export { ESTIMATOR, EXACT_LIMIT, LatencyHistogram, MAX_RELATIVE_ERROR } from "./histogram.js";
export type { WindowedHistogramOptions } from "./windowed-histogram.js";
export { WindowedHistogram } from "./windowed-histogram.js";
