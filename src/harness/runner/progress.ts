/**
 * Progress while a run goes: on a TTY one line rewritten in place with the elapsed time and live
 * p50/p95; otherwise plain lines (phases, and a tick at most every 10 s) that read well in CI logs.
 */
export interface ProgressTick {
  scenario: string;
  elapsedMs: number;
  done: number;
  total: number | null;
  p50: number | null;
  p95: number | null;
}

export interface ProgressSink {
  /** A phase change or a result: always printed on its own line. */
  line(text: string): void;
  tick(t: ProgressTick): void;
  /** Clears a pending in-place line. */
  end(): void;
}

const PLAIN_TICK_EVERY_MS = 10_000;

const ms = (v: number | null) => (v === null ? "-" : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);

export function formatTick(t: ProgressTick): string {
  const count = t.total === null ? `${t.done}` : `${t.done}/${t.total}`;
  return `[${t.scenario}] ${(t.elapsedMs / 1000).toFixed(1)}s ${count} requests  p50 ${ms(t.p50)}  p95 ${ms(t.p95)}`;
}

export function createProgress(write: (s: string) => void, isTTY: boolean): ProgressSink {
  let pending = false;
  let lastPlain = new Map<string, number>();
  const clear = () => {
    if (pending) write("\r\x1b[2K");
    pending = false;
  };
  return {
    line(text) {
      clear();
      write(`${text}\n`);
    },
    tick(t) {
      if (isTTY) {
        write(`\r\x1b[2K${formatTick(t)}`);
        pending = true;
        return;
      }
      const last = lastPlain.get(t.scenario) ?? 0;
      if (t.elapsedMs - last < PLAIN_TICK_EVERY_MS) return;
      lastPlain.set(t.scenario, t.elapsedMs);
      write(`${formatTick(t)}\n`);
    },
    end() {
      clear();
      lastPlain = new Map();
    },
  };
}

export const silentProgress: ProgressSink = { line: () => undefined, tick: () => undefined, end: () => undefined };
