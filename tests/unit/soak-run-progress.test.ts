import { describe, expect, test } from "vitest";
import { createSoakProgress, formatLive, formatWindowLine } from "../../src/harness/soak-run/progress.js";

const MiB = 1024 * 1024;

describe("soak-run progress", () => {
  test("the live line shows elapsed and remaining time, windows done, p50/p95, RSS and its trend", () => {
    const s = formatLive({ runMs: 725_000, endRunMs: 14_400_000, windowMs: 60_000, windowsDone: 12, inFlight: 1, p50: 120.4, p95: 210, rssBytes: 210.3 * MiB }, { trendMbPerH: 1.24 });
    expect(s).toBe("soak 12m05s elapsed, 3h47m left · 12/240 windows · p50 120 ms p95 210 ms · RSS 210.3 MiB (trend +1.2 MiB/h)");
  });

  test("one plain line per window", () => {
    const s = formatWindowLine({ index: 11, plannedWindows: 240, endMs: 720_000, plannedMs: 14_400_000, requests: 1200, failed: 3, p50: 120, p95: 210, rssBytes: 210.3 * MiB, trendMbPerH: -0.5, canary: "ok" });
    expect(s).toBe("window 12/240 (12m00s of 4h00m): 1200 requests, 3 failed, p50 120 ms, p95 210 ms, RSS 210.3 MiB, trend -0.5 MiB/h, canary ok");
  });

  test("on a TTY ticks rewrite one line and windows print nothing extra; otherwise ticks print nothing and windows one line each", () => {
    const tty: string[] = [];
    const p = createSoakProgress((s) => tty.push(s), true);
    const live = { runMs: 1000, endRunMs: 60_000, windowMs: 5000, windowsDone: 0, inFlight: 0, p50: null, p95: null, rssBytes: null };
    const win = { index: 0, plannedWindows: 12, endMs: 5000, plannedMs: 60_000, requests: 50, failed: 0, p50: 1, p95: 2, rssBytes: null, trendMbPerH: null, canary: "ok" as const };
    p.tick(live);
    p.window(win);
    p.line("done");
    expect(tty[0]).toMatch(/^\r\x1b\[2Ksoak 1s elapsed, 59s left · 0\/12 windows/);
    expect(tty.at(-1)).toBe("done\n");
    expect(tty.join("")).not.toMatch(/window 1\/12/);
    const plain: string[] = [];
    const q = createSoakProgress((s) => plain.push(s), false);
    q.tick(live);
    q.window(win);
    expect(plain).toEqual([`${formatWindowLine(win)}\n`]);
  });
});
