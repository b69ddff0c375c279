/** Durations ("90s", "10m", "4h", "1h30m") and request rates ("10", "10/s", "2/min", "120/h") for soak options. */

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };
export type RateResult = { ok: true; perSecond: number } | { ok: false; error: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

export function parseDuration(text: string): DurationResult {
  const fail: DurationResult = { ok: false, error: `${JSON.stringify(text)} is not a duration; write it like 90s, 10m, 4h or 1h30m` };
  let ms = 0;
  let pos = 0;
  PART.lastIndex = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return fail;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  return pos > 0 && ms >= 1 && Number.isFinite(ms) ? { ok: true, ms: Math.round(ms) } : fail;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const totalS = Math.floor(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s).padStart(2, "0")}s`;
}

const PER: Record<string, number> = { s: 1, min: 60, h: 3600 };

export function parseRate(text: string): RateResult {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|min|h))?$/.exec(text);
  const v = m ? Number(m[1]) / PER[m[2] ?? "s"]! : Number.NaN;
  if (!(v > 0) || !Number.isFinite(v)) {
    return { ok: false, error: `${JSON.stringify(text)} is not a rate; write requests per second (10, 0.5/s) or per minute or hour (2/min, 120/h)` };
  }
  return { ok: true, perSecond: v };
}
