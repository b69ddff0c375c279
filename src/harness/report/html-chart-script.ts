/**
 * The inline script of report.html: reads the embedded report JSON and draws inline SVG charts
 * (one latency-percentile bar chart per scenario, memory over time with the fitted lines and their
 * bands, latency over time, one latency-over-time chart per lane, the latency-stability ratios with
 * their limit, all with markers). Plain ES2017, no dependencies, no network. When done it sets
 * body[data-charts-drawn] to the number of charts drawn; any error lands in body[data-errors].
 * Keep in sync with chartCount() in html.ts. Must never contain a closing script tag.
 */
export const CHART_SCRIPT = String.raw`(function () {
  "use strict";
  var body = document.body;
  var errors = [];
  function fail(msg) {
    errors.push(String(msg));
    body.dataset.errors = errors.join("\n");
  }
  window.onerror = function (message, source, line, column) {
    fail(message + " (line " + line + ":" + column + ")");
  };
  var NS = "http://www.w3.org/2000/svg";
  var PCTS = [["p50", "p50"], ["p90", "p90"], ["p95", "p95"], ["p99", "p99"], ["p999", "p99.9"]];
  var METRICS = [["latencyMs", "E2E latency"], ["ttftMs", "TTFT"], ["itlMs", "ITL"], ["tpotMs", "TPOT"]];
  var BAR_COLORS = ["#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"];
  var LINE_COLORS = ["#1f6feb", "#d1242f", "#2da44e", "#8250df"];
  var W = 1100;
  var H = 300;

  function el(parent, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function niceScale(max, n) {
    if (!(max > 0)) return { max: 1, step: 0.25 };
    var raw = max / n;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / p;
    var step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
    return { max: Math.ceil(max / step - 1e-9) * step, step: step };
  }
  function fmtNum(v) {
    if (!isNum(v)) return "\u2014";
    var a = Math.abs(v);
    if (a >= 100) return String(Math.round(v));
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return String(Number(v.toPrecision(2)));
  }
  function byteUnit(max) {
    var u = [["B", 1], ["KiB", 1024], ["MiB", 1048576], ["GiB", 1073741824], ["TiB", 1099511627776]];
    var i = 0;
    while (i < u.length - 1 && max >= u[i + 1][1]) i++;
    return { name: u[i][0], size: u[i][1] };
  }
  var TIME_STEPS = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5];
  function timeStep(span) {
    for (var i = 0; i < TIME_STEPS.length; i++) if (span / TIME_STEPS[i] <= 8) return TIME_STEPS[i];
    return Math.ceil(span / 8 / 864e5) * 864e5;
  }
  function fmtTime(t, step) {
    if (step < 6e4) return Math.round(t / 1e3) + "s";
    if (step < 36e5) return Math.round(t / 6e4) + "m";
    return (Math.round(t / 36e5 * 10) / 10) + "h";
  }
  function figure(host, title) {
    var fig = document.createElement("figure");
    fig.className = "chart";
    var cap = document.createElement("figcaption");
    cap.textContent = title;
    fig.appendChild(cap);
    host.appendChild(fig);
    var svg = el(fig, "svg", { viewBox: "0 0 " + W + " " + H, role: "img", width: "100%", preserveAspectRatio: "xMidYMid meet" });
    el(svg, "title", {}, title);
    return svg;
  }
  function fmtTick(v, step) {
    var d = 0;
    while (d < 6 && Math.abs(step * Math.pow(10, d) - Math.round(step * Math.pow(10, d))) > 1e-6) d++;
    return v.toFixed(d);
  }
  function yAxis(svg, x0, x1, top, bottom, scale) {
    for (var i = 0; i * scale.step <= scale.max + scale.step / 2; i++) {
      var v = i * scale.step;
      var y = bottom - (v / scale.max) * (bottom - top);
      el(svg, "line", { x1: x0, x2: x1, y1: y, y2: y, stroke: v === 0 ? "#8c959f" : "#d8dee4", "stroke-width": 1 });
      el(svg, "text", { x: x0 - 6, y: y + 4, "text-anchor": "end", class: "tick" }, fmtTick(v, scale.step));
    }
  }

  function barChart(host, s) {
    var metrics = METRICS.filter(function (m) { return s[m[0]] && s[m[0]].count > 0; });
    var svg = figure(host, s.name + " \u2014 latency percentiles (ms)");
    var gap = 40;
    var panelW = Math.min((W - 20 - gap * (metrics.length - 1)) / metrics.length, (W - 20 - gap) / 2);
    metrics.forEach(function (m, i) {
      var sum = s[m[0]];
      var x0 = 10 + i * (panelW + gap) + 52;
      var x1 = 10 + i * (panelW + gap) + panelW;
      var top = 48;
      var bottom = H - 34;
      var values = PCTS.map(function (p) { return sum[p[0]]; });
      var scale = niceScale(Math.max.apply(null, values.filter(isNum).concat([0])), 4);
      el(svg, "text", { x: (x0 + x1) / 2, y: 22, "text-anchor": "middle", class: "panel-title" }, m[1] + " (n=" + sum.count + ")");
      yAxis(svg, x0, x1, top, bottom, scale);
      var slot = (x1 - x0) / PCTS.length;
      PCTS.forEach(function (p, j) {
        var v = sum[p[0]];
        var cx = x0 + slot * (j + 0.5);
        el(svg, "text", { x: cx, y: bottom + 18, "text-anchor": "middle", class: "tick" }, p[1]);
        if (!isNum(v)) return;
        var h = (v / scale.max) * (bottom - top);
        el(svg, "rect", { x: cx - slot * 0.32, y: bottom - h, width: slot * 0.64, height: Math.max(h, 1), fill: BAR_COLORS[j], rx: 2 });
        el(svg, "text", { x: cx, y: bottom - h - 5, "text-anchor": "middle", class: "value" }, fmtNum(v));
      });
    });
  }

  // extras.fits: straight segments { label, from: [t, v], to: [t, v], low?, high? } drawn over the
  // lines, with a band from the start to [to.t, low..high]; extras.limit: { label, v } a horizontal line.
  function lineChart(host, title, lines, markers, extras) {
    var svg = figure(host, title);
    var left = 80, right = W - 20, top = 40, bottom = H - 34;
    var tMax = (extras && extras.tMax) || 0, vMax = 0;
    var fits = (extras && extras.fits) || [];
    var limit = extras && extras.limit;
    lines.forEach(function (l) { l.points.forEach(function (p) { tMax = Math.max(tMax, p[0]); if (isNum(p[1])) vMax = Math.max(vMax, p[1]); }); });
    (markers || []).forEach(function (m) { tMax = Math.max(tMax, m.tMs); });
    fits.forEach(function (f) {
      tMax = Math.max(tMax, f.to[0]);
      [f.from[1], f.to[1], f.low, f.high].forEach(function (v) { if (isNum(v)) vMax = Math.max(vMax, v); });
    });
    if (limit && isNum(limit.v)) vMax = Math.max(vMax, limit.v * 1.1);
    if (tMax <= 0) tMax = 1;
    var scale = niceScale(vMax, 4);
    var xOf = function (t) { return left + (t / tMax) * (right - left); };
    var yOf = function (v) { return bottom - (v / scale.max) * (bottom - top); };
    yAxis(svg, left, right, top, bottom, scale);
    var step = timeStep(tMax);
    for (var t = 0; t <= tMax + 1e-9; t += step) {
      el(svg, "text", { x: xOf(t), y: bottom + 18, "text-anchor": "middle", class: "tick" }, fmtTime(t, step));
    }
    (markers || []).forEach(function (m) {
      var x = xOf(m.tMs);
      el(svg, "line", { x1: x, x2: x, y1: top - 8, y2: bottom, stroke: "#9a6700", "stroke-width": 1.5, "stroke-dasharray": "5 4" });
      var nearRight = x > right - 240;
      el(svg, "text", { x: nearRight ? x - 4 : x + 4, y: top + 4, "text-anchor": nearRight ? "end" : "start", class: "marker" }, String(m.label).slice(0, 48));
    });
    lines.forEach(function (l, i) {
      var color = LINE_COLORS[i % LINE_COLORS.length];
      var d = "";
      var pen = false;
      l.points.forEach(function (p) {
        if (!isNum(p[1])) { pen = false; return; }
        d += (pen ? " L" : " M") + xOf(p[0]).toFixed(1) + " " + yOf(p[1]).toFixed(1);
        pen = true;
      });
      if (d !== "") el(svg, "path", { d: d.trim(), fill: "none", stroke: color, "stroke-width": 2, "stroke-linejoin": "round" });
      if (l.points.length === 1 && isNum(l.points[0][1])) el(svg, "circle", { cx: xOf(l.points[0][0]), cy: yOf(l.points[0][1]), r: 3, fill: color });
      var lx = left + 10 + i * 230;
      el(svg, "rect", { x: lx, y: 12, width: 14, height: 4, fill: color });
      el(svg, "text", { x: lx + 20, y: 19, class: "legend" }, l.label);
    });
    var legendAt = left + 10 + lines.length * 230;
    fits.forEach(function (f, i) {
      var x0 = xOf(f.from[0]), y0 = yOf(f.from[1]), x1 = xOf(f.to[0]);
      if (isNum(f.low) && isNum(f.high)) {
        el(svg, "polygon", { class: "fit-band", points: [x0, y0, x1, yOf(f.high), x1, yOf(f.low)].map(function (v) { return v.toFixed(1); }).join(" "), fill: "#24292f", "fill-opacity": 0.14, stroke: "none" });
      }
      var fitColor = i === 0 ? "#24292f" : "#bc4c00";
      el(svg, "line", { class: "fit", x1: x0, y1: y0, x2: x1, y2: yOf(f.to[1]), stroke: fitColor, "stroke-width": 2.5, "stroke-dasharray": "7 4" });
      el(svg, "rect", { x: legendAt, y: 12, width: 14, height: 4, fill: fitColor });
      el(svg, "text", { x: legendAt + 20, y: 19, class: "legend" }, f.label);
      legendAt += 290;
    });
    if (limit && isNum(limit.v)) {
      el(svg, "line", { class: "limit", x1: left, x2: right, y1: yOf(limit.v), y2: yOf(limit.v), stroke: "#cf222e", "stroke-width": 1.5, "stroke-dasharray": "8 4" });
      el(svg, "text", { x: right - 4, y: yOf(limit.v) - 5, "text-anchor": "end", class: "marker" }, limit.label);
    }
  }

  function hasSamples(s) { return METRICS.some(function (m) { return s[m[0]] && s[m[0]].count > 0; }); }
  function hasLatencyPoint(points) { return points.some(function (p) { return isNum(p.p50) || isNum(p.p95); }); }

  var drawn = 0;
  function attempt(name, draw) {
    try { draw(); drawn++; } catch (e) { fail(name + ": " + (e && e.message ? e.message : e)); }
  }
  try {
    var report = JSON.parse(document.getElementById("report-data").textContent);
    var host = document.getElementById("charts");
    (report.scenarios || []).forEach(function (s) {
      if (hasSamples(s)) attempt("scenario " + s.name, function () { barChart(host, s); });
    });
    var series = report.series;
    var markers = series && series.markers ? series.markers : [];
    // One time axis for every time chart, so a marker sits at the same x on each.
    var tAll = 0;
    var seen = function (t) { if (isNum(t)) tAll = Math.max(tAll, t); };
    if (series) {
      (series.memory || []).forEach(function (p) { seen(p.tMs); });
      (series.latency || []).forEach(function (p) { seen(p.tMs); });
      markers.forEach(function (m) { seen(m.tMs); });
      (series.lanes || []).forEach(function (l) { l.points.forEach(function (p) { seen(p.tMs); }); });
    }
    if (series && series.memory && series.memory.length > 0) {
      attempt("memory", function () {
        var mem = series.memory;
        var unit = byteUnit(Math.max.apply(null, mem.map(function (p) { return Math.max(p.rssBytes || 0, p.externalBytes || 0); })));
        var pick = function (key) { return mem.map(function (p) { return [p.tMs, isNum(p[key]) ? p[key] / unit.size : null]; }); };
        var memoryFits = series.memoryFits || [];
        var lines = [{ label: memoryFits.length > 0 ? "RSS (judged)" : "RSS", points: pick("rssBytes") }];
        if (mem.some(function (p) { return isNum(p.externalBytes); })) lines.push({ label: "external (Buffers; inside RSS)", points: pick("externalBytes") });
        if (mem.some(function (p) { return isNum(p.heapUsedBytes); })) lines.push({ label: "V8 heap used", points: pick("heapUsedBytes") });
        var u = function (v) { return isNum(v) ? v / unit.size : null; };
        var fits = memoryFits.map(function (f) {
          return { label: f.label, from: [f.fromMs, f.fromBytes / unit.size], to: [f.toMs, f.toBytes / unit.size], low: u(f.lowToBytes), high: u(f.highToBytes) };
        });
        lineChart(host, "Memory over time (" + unit.name + ")", lines, markers, { fits: fits, tMax: tAll });
      });
    }
    if (series && series.latency && hasLatencyPoint(series.latency)) {
      attempt("latency", function () {
        var lat = series.latency;
        lineChart(host, "Latency over time (ms)", [
          { label: "p50", points: lat.map(function (p) { return [p.tMs, p.p50]; }) },
          { label: "p95", points: lat.map(function (p) { return [p.tMs, p.p95]; }) }
        ], markers, { tMax: tAll });
      });
    }
    ((series && series.lanes) || []).forEach(function (lane) {
      if (!hasLatencyPoint(lane.points)) return;
      attempt("lane " + lane.name, function () {
        var pts = lane.points;
        var lines = [{ label: "p50", points: pts.map(function (p) { return [p.tMs, p.p50]; }) }];
        if (pts.some(function (p) { return p.p95 !== p.p50; })) lines.push({ label: "p95", points: pts.map(function (p) { return [p.tMs, p.p95]; }) });
        else lines[0].label = "E2E";
        lineChart(host, lane.name + " \u2014 latency over time (ms)", lines, markers, { tMax: tAll });
      });
    });
    var stability = series && series.stability;
    if (stability && stability.classes.some(function (c) { return c.points.length > 0; })) {
      attempt("stability", function () {
        var lines = stability.classes.map(function (c) { return { label: c.label, points: c.points.map(function (p) { return [p.tMs, p.ratio]; }) }; });
        lineChart(host, "Latency stability: p95 / p50 per latency window", lines, markers, { limit: { label: "limit " + stability.maxRatio + " \u00d7", v: stability.maxRatio }, tMax: tAll });
      });
    }
  } catch (e) {
    fail("charts: " + (e && e.message ? e.message : e));
  }
  body.dataset.chartsDrawn = String(drawn);
})();
`;
