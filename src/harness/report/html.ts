import { createHash } from "node:crypto";
import { ESTIMATOR } from "../stats/histogram.js";
import {
  DEFINITIONS, NO_VALUE, PERCENTILE_COLUMNS, VERDICT_WORD, countGates, environmentLine, fmtBytes, fmtDuration,
  fmtGateValues, fmtMs, fmtNumber, gateHeadline, gatesByUrgency, latencyRows, scenarioHeadline,
} from "./format.js";
import { CHART_SCRIPT } from "./html-chart-script.js";
import { REPORT_CSS } from "./html-style.js";
import type { RunReport } from "./types.js";

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** JSON that is safe inside a <script> element: no `<`, `>`, `&` or line separators appear raw. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Number of charts the inline script draws for this report (keep in sync with CHART_SCRIPT). */
export function chartCount(r: RunReport): number {
  const bars = r.scenarios.filter((s) => latencyRows(s).some((row) => row.summary.count > 0)).length;
  const memory = r.series !== undefined && r.series.memory.length > 0 ? 1 : 0;
  const latency = r.series?.latency.some((p) => p.p50 !== null || p.p95 !== null) === true ? 1 : 0;
  const lanes = (r.series?.lanes ?? []).filter((l) => l.points.some((p) => p.p50 !== null || p.p95 !== null)).length;
  const stability = r.series?.stability?.classes.some((c) => c.points.length > 0) === true ? 1 : 0;
  return bars + memory + latency + lanes + stability;
}

const e = escapeHtml;

function gatesTable(r: RunReport): string {
  if (r.gates.length === 0) return "<p>No gates were evaluated.</p>";
  const label = { pass: "PASS", fail: "FAIL", unavailable: "N/A" } as const;
  const rows = gatesByUrgency(r.gates).map((g) =>
    `<tr class="gate ${g.verdict}"><td><span class="badge ${g.verdict}">${label[g.verdict]}</span></td>` +
    `<td>${g.scenario === null ? "(run)" : e(g.scenario)}</td><td><code>${e(g.expression)}</code></td>` +
    `<td>${e(fmtGateValues(g.values))}</td><td class="detail">${e(g.detail)}</td></tr>`);
  return `<table class="gates"><thead><tr><th></th><th>Scenario</th><th>Gate</th><th>Measured</th><th>Detail</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

function scenarios(r: RunReport): string {
  return r.scenarios.map((s) => {
    const head = `<tr><th>ms</th>${PERCENTILE_COLUMNS.map(([, l]) => `<th>${l}</th>`).join("")}<th>max</th><th>mean</th><th>stddev</th><th>n</th></tr>`;
    const rows = latencyRows(s).map(({ label, summary: m }) =>
      `<tr><td>${label}</td>${PERCENTILE_COLUMNS.map(([k]) => `<td>${fmtMs(m[k])}</td>`).join("")}` +
      `<td>${fmtMs(m.max)}</td><td>${fmtMs(m.mean)}</td><td>${fmtMs(m.stddev)}</td><td>${m.count}</td></tr>`);
    const notes = s.notes.map((n) => `<p class="note">${e(n)}</p>`).join("");
    return `<h3>${e(s.name)}</h3>\n<p class="sub">${e(s.description)}</p>\n<p>${e(scenarioHeadline(s))}</p>\n` +
      `<table class="latency"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>${notes}`;
  }).join("\n");
}

function baseline(r: RunReport): string {
  const b = r.baseline;
  if (b === undefined) return "";
  const rows = b.comparisons.map((c) => {
    const change = c.changePct === null ? NO_VALUE : `${c.changePct > 0 ? "+" : ""}${c.changePct.toFixed(1)}%`;
    return `<tr><td>${c.scenario === null ? "(run)" : e(c.scenario)}</td><td>${e(c.metric)}</td><td class="num">${fmtNumber(c.baseline)}</td>` +
      `<td class="num">${fmtNumber(c.current)}</td><td class="num">${change}</td><td>${c.verdict}</td><td class="num">${fmtNumber(c.pValue ?? null)}</td></tr>`;
  });
  return `<section><h2>Baseline: ${e(b.name)}</h2>${b.source === null ? "" : `<p class="sub">${e(b.source)}</p>`}` +
    `<table class="baseline"><thead><tr><th>Scenario</th><th>Metric</th><th>Baseline</th><th>Current</th><th>Change</th><th>Verdict</th><th>p</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></section>`;
}

function environment(r: RunReport): string {
  const env = r.environment;
  const items: [string, string][] = [
    ["Node", env.node], ["Platform", `${env.platform}/${env.arch} · ${env.os}`], ["CPU", `${env.cores} × ${env.cpuModel}`],
    ["Memory", fmtBytes(env.totalMemoryBytes)], ["Commit", env.gitCommit ?? NO_VALUE],
    ["Model", env.model === null ? NO_VALUE : `${env.model.id} · ${fmtBytes(env.model.sizeBytes)} · sha256 ${env.model.sha256}`],
    ["Started", r.startedAt], ["Finished", r.finishedAt],
  ];
  return `<section><h2>Environment</h2><dl>${items.map(([k, v]) => `<dt>${k}</dt><dd>${e(v)}</dd>`).join("")}</dl>` +
    `<details><summary>Configuration</summary><pre>${e(JSON.stringify(env.config, null, 2) ?? "{}")}</pre></details></section>`;
}

/** report.html: one offline, self-contained page (inline CSS, inline SVG charts, embedded JSON). */
export function toHtml(r: RunReport): string {
  const counts = countGates(r.gates);
  const word = VERDICT_WORD[r.verdict];
  const hash = createHash("sha256").update(CHART_SCRIPT).digest("base64");
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:`;
  const invalid = r.verdict === "invalid"
    ? `<section class="invalid-reasons"><strong>The measurement cannot be trusted, whatever the gates say:</strong><ul>${r.invalidReasons.map((x) => `<li>${e(x)}</li>`).join("")}</ul></section>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${word} · ${e(r.kind)} · ${e(r.name)} — gauntlet</title>
<style>${REPORT_CSS}</style>
</head>
<body data-expected-charts="${chartCount(r)}">
<header class="banner ${r.verdict}">
<div class="verdict">${word}</div>
<div><h1>${e(r.kind)} · ${e(r.name)}</h1>
<p class="headline">${e(gateHeadline(counts))}</p>
<p class="meta">${e(fmtDuration(r.durationMs))} · ${r.scenarios.length} scenario${r.scenarios.length === 1 ? "" : "s"} · started ${e(r.startedAt)} · ${e(environmentLine(r))}</p></div>
</header>
<main>
${invalid}
<section><h2>Gates</h2>
${gatesTable(r)}
</section>
<section><h2>Charts</h2><div id="charts"></div><noscript><p>The charts need JavaScript; the tables hold every number.</p></noscript></section>
<section><h2>Scenarios</h2>
${scenarios(r)}
</section>
${baseline(r)}
${environment(r)}
<footer><p>Percentiles: ${e(ESTIMATOR)}.</p><p>${DEFINITIONS.map(e).join(" ")}</p></footer>
</main>
<script type="application/json" id="report-data">${embedJson(r)}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
