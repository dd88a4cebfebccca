// The report's only stylesheet, inlined so the HTML file stays one self-contained artefact that opens offline.
export const REPORT_CSS = `
:root {
  --bg: #f5f7fa; --card: #fff; --ink: #1f2328; --muted: #636c76; --line: #d8dee4; --soft: #eef1f4;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --error: #bc4c00; --error-bg: #fff1e5; --skipped: #6e7781; --skipped-bg: #eaeef2;
  --info: #0969da; --info-bg: #ddf4ff;
  --beyond: #8250df; --beyond-bg: #fbefff;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45;
  font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "Noto Sans", "DejaVu Sans", sans-serif; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header.top { background: #17212b; color: #e6edf3; padding: 22px 0 24px; }
header.top .brand { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; color: #8b98a5; }
header.top h1 { margin: 2px 0 4px; font-size: 22px; font-weight: 600; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
header.top h1 code { font-size: 18px; background: none; color: #fff; }
header.top .meta { color: #a9b4be; margin: 0 0 16px; }
header.top .meta code { color: #d0d7de; }
.verdict { font-size: 12px; font-weight: 700; letter-spacing: .06em; padding: 3px 10px; border-radius: 999px; }
.verdict.passed { background: var(--pass); color: #fff; }
.verdict.failed { background: var(--fail); color: #fff; }
.tiles { display: flex; gap: 10px; flex-wrap: wrap; margin-bottom: 12px; }
.tile { background: #223040; border-radius: 8px; padding: 8px 14px; min-width: 96px; }
.tile b { display: block; font-size: 22px; line-height: 1.2; font-variant-numeric: tabular-nums; }
.tile span { font-size: 12px; color: #a9b4be; }
.tile.pass b { color: #4ac26b; } .tile.fail b { color: #ff8182; } .tile.error b { color: #ffa657; } .tile.skipped b { color: #b1bac4; }
.stack { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: #2d3b4a; max-width: 640px; }
.stack > div { height: 100%; }
.env { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 2px 18px; margin: 14px 0 0; font-size: 12.5px; }
.env div { display: flex; gap: 6px; min-width: 0; }
.env dt { color: #8b98a5; } .env dd { margin: 0; color: #d0d7de; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
main.wrap { padding-top: 22px; padding-bottom: 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-bottom: 18px; }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 22px 0 8px; }
h4 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.muted { color: var(--muted); fill: var(--muted); }
.sub { color: var(--muted); margin: 0 0 6px; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin: 4px 0 10px; align-items: center; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -2px; margin-right: 5px; }
.legend i.dash { height: 0; border-top: 2px dashed var(--fail); border-radius: 0; width: 18px; vertical-align: 3px; }
.matrix-chapter + .matrix-chapter { margin-top: 14px; }
.matrix-chapter h3 { margin: 6px 0 8px; font-size: 14px; }
.matrix-row { display: grid; grid-template-columns: 118px 1fr; gap: 10px; align-items: start; padding: 5px 0; border-top: 1px solid var(--soft); }
.matrix-kind { font-size: 12px; color: var(--muted); padding-top: 8px; }
.matrix-kind b { color: var(--ink); font-weight: 600; display: block; }
.cells { display: flex; flex-wrap: wrap; gap: 6px; }
.cell { display: block; width: 84px; padding: 5px 7px; border-radius: 6px; text-decoration: none; font-size: 12px; line-height: 1.25; color: #fff; border: 1px solid transparent; }
.cell b { display: block; font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.cell span { font-size: 11px; opacity: .92; }
.cell:hover, .cell:focus { outline: 2px solid #0969da; outline-offset: 1px; }
.cell-pass { background: var(--pass); }
.cell-fail { background: var(--fail); }
.cell-error { background: var(--error); }
.cell-skipped { color: #424a53; border-color: #d0d7de; background: repeating-linear-gradient(135deg, #f0f2f4 0 6px, #e4e8ec 6px 12px); }
.badge { display: inline-block; font-size: 11.5px; font-weight: 600; padding: 1px 8px; border-radius: 999px; white-space: nowrap; }
.badge-pass { background: var(--pass-bg); color: var(--pass); }
.badge-fail { background: var(--fail-bg); color: var(--fail); }
.badge-error { background: var(--error-bg); color: var(--error); }
.badge-skipped { background: var(--skipped-bg); color: var(--skipped); }
.badge-info { background: var(--info-bg); color: var(--info); }
.badge-beyond-machine { background: var(--beyond-bg); color: var(--beyond); }
p.beyond-note { border-left: 4px solid var(--beyond); background: var(--beyond-bg); padding: 6px 10px; border-radius: 4px; }
.chapter-head { display: flex; justify-content: space-between; gap: 16px; flex-wrap: wrap; align-items: baseline; }
.chapter-head .counts { display: flex; gap: 6px; flex-wrap: wrap; }
.charts { display: grid; grid-template-columns: 1fr; gap: 14px; margin-top: 14px; }
figure { margin: 0; border: 1px solid var(--soft); border-radius: 8px; padding: 12px 14px 8px; background: #fbfcfd; overflow-x: auto; }
figcaption { font-weight: 600; font-size: 13px; }
figcaption .muted { font-weight: 400; }
.empty { color: var(--muted); font-style: italic; padding: 18px 0; margin: 0; }
/* Below ~720px the charts scroll sideways rather than shrinking their text past legibility. */
svg.chart { width: 100%; min-width: 720px; height: auto; display: block; margin-top: 4px; font-family: inherit; overflow: visible; }
svg .grid { stroke: #e6eaef; stroke-width: 1; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg .tick, svg .axis-title { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .x-label { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .x-sub { font-size: 11px; fill: var(--muted); }
svg .bar-value { font-size: 10.5px; fill: #3d444d; font-variant-numeric: tabular-nums; }
svg .break { stroke: #fbfcfd; stroke-width: 3; fill: none; }
svg .target-line { stroke: var(--fail); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .target-label { font-size: 11px; font-weight: 600; fill: var(--fail); paint-order: stroke; stroke: #fbfcfd; stroke-width: 4px; stroke-linejoin: round; }
svg .row-label { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .row-label tspan { font-weight: 400; font-size: 11.5px; }
svg .row-note { font-size: 12px; font-weight: 600; }
svg .row-note.good { fill: var(--pass); }
svg .row-note.bad { fill: var(--fail); }
svg .row-note.neutral { fill: var(--info); }
svg .measured-bar { fill: #2f73c0; }
svg .measured-bar.short { fill: var(--fail); }
svg .ref-bar { fill: #c3cad2; }
svg .threshold { stroke: var(--fail); stroke-width: 2; stroke-dasharray: 4 3; }
svg .bar-text { font-size: 11.5px; fill: var(--ink); font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--soft); padding: 7px 8px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { white-space: nowrap; font-weight: 600; }
td.reason { color: var(--muted); max-width: 420px; }
td.yard { min-width: 200px; }
tr.row-fail td.reason, tr.row-error td.reason { color: var(--ink); }
td .origin { display: block; color: var(--muted); font-size: 12px; margin-top: 2px; }
.scroll { overflow-x: auto; }
details.failure { border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 8px; margin: 8px 0; background: #fff; }
details.failure.status-error { border-left-color: var(--error); }
details.failure > summary { cursor: pointer; padding: 9px 12px; list-style: none; display: flex; gap: 8px; align-items: baseline; }
details.failure > summary::-webkit-details-marker { display: none; }
details.failure > summary::before { content: ""; flex: none; align-self: center; border-left: 7px solid var(--muted);
  border-top: 5px solid transparent; border-bottom: 5px solid transparent; transition: transform .15s; }
details.failure[open] > summary::before { transform: rotate(90deg); }
details.failure > summary:hover { background: #f6f8fa; }
details.failure[open] > summary { border-bottom: 1px solid var(--soft); }
.failure-body { padding: 4px 14px 14px; }
.failure-body .reason { font-size: 14px; margin: 10px 0; }
.facts { display: flex; gap: 22px; flex-wrap: wrap; margin: 0; font-size: 12.5px; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; border: 1px solid var(--soft); border-radius: 6px; padding: 10px 12px; margin: 0; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.exchange { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
.exchange h5 { margin: 0 0 4px; font-size: 12px; color: var(--muted); }
ul.violations { margin: 0; padding-left: 20px; color: var(--fail); }
ul.logs { margin: 0; padding-left: 20px; font-size: 12.5px; }
footer { color: var(--muted); font-size: 12px; padding: 4px 0 28px; }
@media print { body { background: #fff; } .card { break-inside: avoid; } details.failure { break-inside: avoid; } }
`;
