/**
 * The false-alarm rate of the soak verdict (scripts/soak-false-alarms.ts): N clean runs of the
 * unmodified server, each should be green. A red run is a false alarm (whichever gate), counted
 * over the runs that reached a verdict; INVALID runs are neither and are reported apart (in CI they
 * still fail the job, with exit 2). The memory gate's own rate is given too, since the leak verdict
 * is what the statistics are tuned for. Rates carry 95% Wilson score intervals, which stay honest
 * for small N and rates near 0 (0 of 5 is "up to 43%", not "0%").
 */

export interface CleanRun {
  run: number;
  verdict: "pass" | "fail" | "invalid";
  /** The soak/memory-growth gate's verdict; null when the run has no such gate. */
  memoryGate: "pass" | "fail" | "unavailable" | null;
  growthPct: number | null;
  growthPctLow: number | null;
  redGates: string[];
  invalidReasons: string[];
  runDir: string;
}

export interface FalseAlarmSummary {
  runs: number;
  /** Runs with a verdict (green or red). */
  decided: number;
  green: number;
  red: number;
  invalid: number;
  /** red / decided. */
  falseAlarmRate: number | null;
  wilson95: [number, number];
  invalidRate: number | null;
  /** Runs red on the memory gate, over the runs where it was evaluated (pass or fail). */
  memoryFalseAlarms: number;
  memoryJudged: number;
  memoryFalseAlarmRate: number | null;
  memoryWilson95: [number, number];
  /** How many red runs each gate turned red. */
  redByGate: Record<string, number>;
  details: CleanRun[];
}

/** The Wilson score interval of k successes in n trials (z = 1.96: 95%); [0, 1] when n = 0. */
export function wilsonInterval(k: number, n: number, z = 1.96): [number, number] {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && n >= 0 && k <= n)) throw new RangeError(`wilsonInterval needs integers 0 <= k <= n, got k=${k}, n=${n}`);
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = p + (z * z) / (2 * n);
  const h = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, (c - h) / d), Math.min(1, (c + h) / d)];
}

export function summarizeFalseAlarms(details: CleanRun[]): FalseAlarmSummary {
  const green = details.filter((r) => r.verdict === "pass").length;
  const red = details.filter((r) => r.verdict === "fail").length;
  const invalid = details.length - green - red;
  const decided = green + red;
  const judged = details.filter((r) => r.memoryGate === "pass" || r.memoryGate === "fail");
  const memoryFalseAlarms = judged.filter((r) => r.memoryGate === "fail").length;
  const redByGate: Record<string, number> = {};
  for (const r of details) if (r.verdict === "fail") for (const g of r.redGates) redByGate[g] = (redByGate[g] ?? 0) + 1;
  return {
    runs: details.length, decided, green, red, invalid,
    falseAlarmRate: decided > 0 ? red / decided : null,
    wilson95: wilsonInterval(red, decided),
    invalidRate: details.length > 0 ? invalid / details.length : null,
    memoryFalseAlarms, memoryJudged: judged.length,
    memoryFalseAlarmRate: judged.length > 0 ? memoryFalseAlarms / judged.length : null,
    memoryWilson95: wilsonInterval(memoryFalseAlarms, judged.length),
    redByGate, details,
  };
}

const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
const interval = ([low, high]: [number, number]) => `95% Wilson interval ${pct(low)}-${pct(high)}`;
const num = (v: number | null) => (v === null ? "n/a" : v.toFixed(2));

export function falseAlarmMarkdown(s: FalseAlarmSummary, run: { preset: string; durationMs: number; windowMs: number }): string {
  return [
    `# Soak false alarms: ${s.red} of ${s.decided} clean runs red`,
    "",
    `Preset \`${run.preset}\` (${run.durationMs / 1000} s, ${run.windowMs / 1000} s windows), the unmodified server, ${s.runs} run(s).`,
    `- false-alarm rate ${pct(s.falseAlarmRate)} (${interval(s.wilson95)}) over the ${s.decided} run(s) with a verdict; red by gate: ${Object.entries(s.redByGate).map(([g, n]) => `${g} ${n}`).join(", ") || "none"}`,
    `- memory gate alone: ${s.memoryFalseAlarms} of ${s.memoryJudged} (${pct(s.memoryFalseAlarmRate)}, ${interval(s.memoryWilson95)})`,
    `- INVALID (neither green nor red; exit 2 in CI): ${s.invalid} of ${s.runs} (${pct(s.invalidRate)})`,
    "",
    "| run | verdict | memory gate | growth % | growth % (low) | red gates | invalid because |",
    "| --: | --- | --- | --: | --: | --- | --- |",
    ...s.details.map((r) => `| ${r.run} | ${r.verdict} | ${r.memoryGate ?? "n/a"} | ${num(r.growthPct)} | ${num(r.growthPctLow)} | ${r.redGates.join(", ") || "-"} | ${r.invalidReasons.join("; ").replace(/\|/g, "/") || "-"} |`),
    "",
  ].join("\n");
}
