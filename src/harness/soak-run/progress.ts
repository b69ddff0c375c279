/**
 * What a soak shows while it runs: on a TTY one line rewritten about once a second (elapsed and
 * remaining time, windows done, live p50/p95 of the current window, RSS and its fitted trend);
 * otherwise one plain line per window, which reads well in CI logs.
 */
import { formatDuration } from "./duration.js";
import type { LiveStatus } from "./run-loop.js";

export interface WindowLine {
  /** 0-based window number. */
  index: number;
  plannedWindows: number;
  endMs: number;
  plannedMs: number;
  requests: number;
  failed: number;
  p50: number | null;
  p95: number | null;
  rssBytes: number | null;
  trendMbPerH: number | null;
  canary: "ok" | "changed" | "failed" | "none";
}

export interface SoakProgress {
  line(text: string): void;
  tick(s: LiveStatus): void;
  window(w: WindowLine): void;
  end(): void;
}

const ms = (v: number | null) => (v === null ? "-" : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
const mib = (b: number | null) => (b === null ? "-" : `${(b / (1024 * 1024)).toFixed(1)} MiB`);
const trend = (t: number | null) => (t === null ? "n/a" : `${t >= 0 ? "+" : ""}${t.toFixed(1)} MiB/h`);

export function formatLive(s: LiveStatus, ctx: { trendMbPerH: number | null }): string {
  const left = Math.max(0, s.endRunMs - s.runMs);
  return `soak ${formatDuration(s.runMs)} elapsed, ${formatDuration(left)} left · ${s.windowsDone}/${Math.ceil(s.endRunMs / s.windowMs)} windows · p50 ${ms(s.p50)} p95 ${ms(s.p95)} · RSS ${mib(s.rssBytes)} (trend ${trend(ctx.trendMbPerH)})`;
}

export function formatWindowLine(w: WindowLine): string {
  return `window ${w.index + 1}/${w.plannedWindows} (${formatDuration(w.endMs)} of ${formatDuration(w.plannedMs)}): ${w.requests} requests, ${w.failed} failed, p50 ${ms(w.p50)}, p95 ${ms(w.p95)}, RSS ${mib(w.rssBytes)}, trend ${trend(w.trendMbPerH)}, canary ${w.canary}`;
}

export function createSoakProgress(write: (s: string) => void, isTTY: boolean): SoakProgress {
  let pending = false;
  let trendMbPerH: number | null = null;
  const clear = () => {
    if (pending) write("\r\x1b[2K");
    pending = false;
  };
  return {
    line(text) {
      clear();
      write(`${text}\n`);
    },
    tick(s) {
      if (!isTTY) return;
      write(`\r\x1b[2K${formatLive(s, { trendMbPerH })}`);
      pending = true;
    },
    window(w) {
      trendMbPerH = w.trendMbPerH;
      if (isTTY) return;
      write(`${formatWindowLine(w)}\n`);
    },
    end: clear,
  };
}

export const silentSoakProgress: SoakProgress = { line: () => undefined, tick: () => undefined, window: () => undefined, end: () => undefined };
