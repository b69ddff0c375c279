/**
 * Counters the chaos cases read from the server's Prometheus text (/metrics): how many corrupt records it
 * counted, and how many cache I/O errors. Every sample of a family is summed over its labels.
 */

/** Corrupt records counted: gauntlet_cache_corruptions_total over its reasons. */
export const CORRUPTIONS_COUNTER = /^gauntlet_cache_corruptions_total(\{|\s)/;
/** Cache I/O errors counted: any gauntlet_cache_*errors_total family (e.g. gauntlet_cache_io_errors_total{op,code}). */
export const IO_ERRORS_COUNTER = /^gauntlet_cache_[a-z_]*errors_total(\{|\s)/;

/** The sum of every sample whose line matches `family`; null when the text has none. */
export function sumSamples(text: string, family: RegExp): number | null {
  const lines = text.split("\n").filter((l) => family.test(l));
  if (lines.length === 0) return null;
  return lines.reduce((sum, l) => sum + (Number(l.slice(l.lastIndexOf(" ") + 1)) || 0), 0);
}

export const ioErrorsCounted = (text: string): number | null => sumSamples(text, IO_ERRORS_COUNTER);
export const corruptionsCountedIn = (text: string): number | null => sumSamples(text, CORRUPTIONS_COUNTER);
