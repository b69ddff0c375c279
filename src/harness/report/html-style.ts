/** Inline stylesheet of report.html: local fonts only, no url(), prints fine. */
export const REPORT_CSS = `
:root { --pass: #1a7f37; --fail: #cf222e; --na: #9a6700; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; color: var(--ink); background: #f6f8fa; }
main { max-width: 1200px; margin: 0 auto; padding: 0 24px 32px; }
.banner { display: flex; gap: 24px; align-items: center; padding: 20px 32px; color: #fff; }
.banner.pass { background: var(--pass); } .banner.fail { background: var(--fail); } .banner.invalid { background: var(--na); }
.banner .verdict { font-size: 44px; font-weight: 800; letter-spacing: 1px; padding: 4px 18px; border: 3px solid #fff; border-radius: 10px; }
.banner h1 { margin: 0; font-size: 26px; word-break: break-word; }
.banner p { margin: 2px 0 0; }
.banner .headline { font-size: 19px; font-weight: 600; }
.banner .meta { opacity: .9; font-size: 14px; }
.invalid-reasons { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 8px; padding: 12px 20px; margin: 20px 0 0; }
h2 { font-size: 20px; margin: 28px 0 10px; } h3 { font-size: 17px; margin: 22px 0 4px; word-break: break-word; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; word-break: break-word; }
th { background: #eef1f4; font-size: 13px; color: var(--muted); font-weight: 600; }
table.latency td:not(:first-child), table.latency th:not(:first-child), table.baseline td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.gate.fail { background: #ffebe9; } tr.gate.unavailable { background: #fff8c5; }
.badge { display: inline-block; min-width: 52px; text-align: center; font-weight: 700; font-size: 12px; color: #fff; border-radius: 12px; padding: 2px 8px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); } .badge.unavailable { background: var(--na); }
code { font: 13px/1.4 "DejaVu Sans Mono", ui-monospace, monospace; background: #eef1f4; padding: 1px 5px; border-radius: 4px; }
.detail { color: var(--muted); font-size: 13px; }
.sub { color: var(--muted); margin: 2px 0 8px; }
.note { color: var(--muted); font-style: italic; margin: 6px 0; }
#charts { display: grid; grid-template-columns: 1fr; gap: 16px; }
figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 4px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; word-break: break-word; }
figure.chart svg { display: block; width: 100%; height: auto; }
svg text { font-family: system-ui, "DejaVu Sans", sans-serif; fill: #1f2328; }
svg .tick { font-size: 12px; fill: #59636e; } svg .value { font-size: 12px; font-weight: 600; }
svg .panel-title { font-size: 14px; font-weight: 600; } svg .legend { font-size: 13px; } svg .marker { font-size: 12px; fill: #9a6700; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-all; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; overflow: auto; font-size: 13px; }
footer { color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); margin-top: 28px; padding-top: 10px; }
`;
