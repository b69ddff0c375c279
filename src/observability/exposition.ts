/**
 * A reader for the Prometheus text exposition format (0.0.4): enough to check a live server's
 * /metrics in tests and to read one gauge from the harness, without a second client library.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseValue(raw: string): number {
  // Go's ParseFloat (Prometheus) accepts these case-insensitively; prom-client writes "Nan".
  const lower = raw.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (lower === "nan") return Number.NaN;
  const v = Number(raw);
  if (raw === "" || Number.isNaN(v)) throw new Error(`not a number: ${raw}`);
  return v;
}

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(body);
    if (!m || m.index !== start) throw new Error("bad label list");
    labels[m[1]!] = unescape(m[2]!);
  }
  return labels;
}

/** Every sample of the text; throws on a line that is neither a comment nor a sample. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      const m = LINE.exec(line);
      if (!m) throw new Error("not a sample");
      out.push({ name: m[1]!, labels: m[2] ? parseLabels(m[2]) : {}, value: parseValue(m[3]!) });
    } catch (err) {
      throw new Error(`exposition line ${i + 1} is malformed (${(err as Error).message}): ${line.slice(0, 120)}`);
    }
  }
  return out;
}

const matches = (s: Sample, name: string, labels: Record<string, string>) =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** The value of the first sample with this name whose labels include `labels`. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => matches(s, name, labels))?.value;
}

/** The sum of every sample with this name whose labels include `labels` (0 when none). */
export function sumSamples(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => matches(s, name, labels)).reduce((a, s) => a + s.value, 0);
}
