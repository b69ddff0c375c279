import { judgeMemory } from "./src/harness/soak/leak-verdict.js";
import { syntheticMemorySeries } from "./src/harness/soak/synthetic.js";
const HOUR = 3_600_000, MB = 1_000_000, planned = 4 * HOUR;
for (const [fill, at] of [[15, 0.7], [18, 0.7], [18, 0.6], [15, 0.6], [19, 0.75], [18, 0.8]]) {
  const s = syntheticMemorySeries({ seed: 21, durationMs: planned, intervalMs: 60_000, baselineBytes: 500 * MB, noiseBytes: 2 * MB, sawtooth: { amplitudeBytes: 20 * MB, periodMs: 7 * 60_000 }, cache: { fillBytes: fill / 100 * 500 * MB, fullAtMs: at * planned } });
  const v = judgeMemory(s, { plannedDurationMs: planned });
  console.log(fill, at, v.verdict, v.projectedGrowthPct?.toFixed(1), v.projectedGrowthPctLow?.toFixed(1), v.projectedGrowthPctHigh?.toFixed(1), (v.warmup!.endX / planned).toFixed(2));
}
