import { readFileSync } from "node:fs";
import { parseJournal } from "./src/harness/soak/index.js";
import { foldJournal } from "./src/harness/soak-run/session.js";
const dir = process.argv[2]!;
const f = foldJournal(parseJournal(readFileSync(`${dir}/journal.jsonl`)))!;
const s = f.state.snapshot();
s.blocks.forEach(({ log, open }, c) => {
  const rows = [];
  for (let i = 0; i < log.length; i++) rows.push(log.row(i));
  if (open) rows.push(open);
  console.log(`class ${c} (${s.start.profile.workload.promptSizes[c]}):`, rows.map((r) => `${(r.startMs/1000).toFixed(0)}s n${r.count} ${r.p50?.toFixed(0)}/${r.p95?.toFixed(0)}=${r.p50 ? (r.p95!/r.p50).toFixed(2) : "-"} f${r.foreignPct?.toFixed(0)}`).join("  "));
});
console.log("lateness", JSON.stringify(s.lateness), "loop", JSON.stringify(s.loop), "host", JSON.stringify(s.host));
