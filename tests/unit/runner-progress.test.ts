import { describe, expect, test } from "vitest";
import { createProgress, formatTick } from "../../src/harness/runner/progress.js";

const tick = { scenario: "s", elapsedMs: 12_345, done: 34, total: 40, p50: 4.56, p95: 80.2 };

describe("createProgress", () => {
  test("formats elapsed time, count and live percentiles", () => {
    expect(formatTick(tick)).toBe("[s] 12.3s 34/40 requests  p50 4.6 ms  p95 80 ms");
  });

  test("rewrites one line in place on a TTY and clears it before a phase line", () => {
    const out: string[] = [];
    const p = createProgress((s) => out.push(s), true);
    p.tick(tick);
    p.line("done");
    expect(out).toEqual([`\r\x1b[2K${formatTick(tick)}`, "\r\x1b[2K", "done\n"]);
  });

  test("prints plain lines without control characters, at most one tick every 10 s per scenario", () => {
    const out: string[] = [];
    const p = createProgress((s) => out.push(s), false);
    p.tick({ ...tick, elapsedMs: 1000 });
    p.tick({ ...tick, elapsedMs: 10_500 });
    p.tick({ ...tick, elapsedMs: 12_000 });
    p.line("phase");
    expect(out).toEqual([`${formatTick({ ...tick, elapsedMs: 10_500 })}\n`, "phase\n"]);
    expect(out.join("")).not.toMatch(/\x1b|\r/);
  });
});
