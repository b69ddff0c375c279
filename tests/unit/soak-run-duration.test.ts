import { describe, expect, test } from "vitest";
import { formatDuration, parseDuration, parseRate } from "../../src/harness/soak-run/duration.js";

describe("soak-run duration", () => {
  test("parses seconds, minutes, hours and combinations into milliseconds", () => {
    expect(parseDuration("90s")).toEqual({ ok: true, ms: 90_000 });
    expect(parseDuration("10m")).toEqual({ ok: true, ms: 600_000 });
    expect(parseDuration("4h")).toEqual({ ok: true, ms: 14_400_000 });
    expect(parseDuration("1h30m")).toEqual({ ok: true, ms: 5_400_000 });
    expect(parseDuration("1.5h")).toEqual({ ok: true, ms: 5_400_000 });
    expect(parseDuration("500ms")).toEqual({ ok: true, ms: 500 });
  });

  test("rejects bare numbers, unknown units, zero and garbage with a message that shows the format", () => {
    for (const bad of ["90", "4d", "0s", "", "h", "-5m", "1h 30m", "abc"]) {
      const r = parseDuration(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/90s, 10m, 4h/);
    }
  });

  test("formats durations compactly", () => {
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(14_400_000)).toBe("4h00m");
    expect(formatDuration(5_400_000 + 5_000)).toBe("1h30m");
    expect(formatDuration(4_200)).toBe("4.2s");
  });

  test("parses rates per second, minute and hour", () => {
    expect(parseRate("10")).toEqual({ ok: true, perSecond: 10 });
    expect(parseRate("10/s")).toEqual({ ok: true, perSecond: 10 });
    expect(parseRate("2/min")).toEqual({ ok: true, perSecond: 2 / 60 });
    expect(parseRate("120/h")).toEqual({ ok: true, perSecond: 120 / 3600 });
    for (const bad of ["0", "-1", "x/s", "3/day", ""]) expect(parseRate(bad).ok, bad).toBe(false);
  });
});
