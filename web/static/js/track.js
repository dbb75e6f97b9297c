// How a strategy has done: its walk-forward trades as a cumulative-R curve and its
// calibration (predicted probability against realised hit rate, by decile), from
// GET /api/v1/strategies/{name}/evaluation. Drawn under the chart of one of its ideas.

import { request } from "./api.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
// The calibration plot's drawing box, in its own units (it scales with the page).
const PLOT = 200;
const MARGIN = 28;
const PERCENT = 100;
const TICKS = [0, 0.25, 0.5, 0.75, 1];

let curveChart = null;

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function pct(value, digits = 0) {
  return value == null ? "–" : `${(value * PERCENT).toFixed(digits)} %`;
}

function summaryText(record) {
  const e = record.overall;
  if (!e || !e.trades) return "No walk-forward trades on this data.";
  const window = e.window_start ? ` from ${e.window_start.slice(0, 10)} to ${e.window_end.slice(0, 10)}` : "";
  return (
    `${e.trades} trades${window}: hit rate ${pct(e.hit_rate)} (95 % ${pct(e.hit_rate_low)}–` +
    `${pct(e.hit_rate_high)}), expectancy ${e.expectancy_r?.toFixed(2)} R, ` +
    `${e.expectancy_pct_net?.toFixed(2)} % a trade net of ${e.fees_pct_round_trip} % costs, ` +
    `worst losing run ${record.worst_losing_run}.` +
    (record.trades_shown < record.trades_total
      ? ` The curve shows the last ${record.trades_shown} of ${record.trades_total}.`
      : "")
  );
}

// One point per exit time (the chart's times must grow): the total after the last
// trade that closed then.
function curvePoints(curve) {
  const byTime = new Map();
  for (const point of curve) byTime.set(point.time, point.r);
  return [...byTime].map(([time, value]) => ({ time, value }));
}

function drawCurve(box, record) {
  const LWC = window.LightweightCharts;
  curveChart = LWC.createChart(box, {
    autoSize: true,
    layout: {
      background: { color: cssColor("--surface") },
      textColor: cssColor("--muted"),
      attributionLogo: false,
    },
    grid: { vertLines: { visible: false }, horzLines: { color: cssColor("--track") } },
    rightPriceScale: { borderColor: cssColor("--border") },
    timeScale: { borderColor: cssColor("--border") },
  });
  const series = curveChart.addSeries(LWC.BaselineSeries, {
    baseValue: { type: "price", price: 0 },
    topLineColor: cssColor("--ok"),
    bottomLineColor: cssColor("--bad"),
    title: "cumulative R",
    priceFormat: { type: "price", precision: 1, minMove: 0.1 },
  });
  series.setData(curvePoints(record.curve));
  curveChart.timeScale().fitContent();
  box.chartHandle = { chart: curveChart, series };
}

function svg(name, attributes, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text != null) node.textContent = text;
  return node;
}

// x: predicted probability, y: realised hit rate; both 0..1.
function at(x, y) {
  return [MARGIN + x * PLOT, MARGIN + (1 - y) * PLOT];
}

function calibrationPlot(bins) {
  const size = PLOT + 2 * MARGIN;
  const plot = svg("svg", {
    viewBox: `0 0 ${size} ${size}`,
    class: "calibration-plot",
    role: "img",
    "aria-label":
      "Calibration: realised hit rate against predicted probability by decile; " +
      "the numbers are in the table beside it",
  });
  const [x0, y0] = at(0, 0);
  const [x1, y1] = at(1, 1);
  plot.append(svg("rect", { x: x0, y: y1, width: PLOT, height: PLOT, class: "plot-frame" }));
  plot.append(svg("line", { x1: x0, y1: y0, x2: x1, y2: y1, class: "plot-diagonal" }));
  for (const tick of TICKS) {
    const [x, y] = at(tick, tick);
    plot.append(svg("text", { x, y: y0 + 14, class: "plot-tick", "text-anchor": "middle" }, pct(tick)));
    plot.append(svg("text", { x: x0 - 4, y: y + 3, class: "plot-tick", "text-anchor": "end" }, pct(tick)));
  }
  for (const bin of bins) {
    const [x, y] = at(bin.predicted_mean, bin.realised);
    const [, low] = at(0, bin.realised_low);
    const [, high] = at(0, bin.realised_high);
    plot.append(svg("line", { x1: x, y1: low, x2: x, y2: high, class: "plot-whisker" }));
    plot.append(svg("circle", { cx: x, cy: y, r: 3.5, class: "plot-point" }));
  }
  return plot;
}

function calibrationTable(bins) {
  const table = document.createElement("table");
  table.className = "calibration-table";
  const caption = document.createElement("caption");
  caption.textContent = "Stated probability at the signal (out of sample) against the realised hit rate";
  const head = document.createElement("tr");
  for (const title of ["Decile", "Trades", "Predicted", "Realised", "95 % interval"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = title;
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const body = document.createElement("tbody");
  for (const bin of bins) {
    const row = document.createElement("tr");
    row.dataset.bin = String(bin.bin);
    for (const text of [
      String(bin.bin),
      String(bin.trades),
      pct(bin.predicted_mean, 1),
      pct(bin.realised, 1),
      `${pct(bin.realised_low, 1)}–${pct(bin.realised_high, 1)}`,
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    body.append(row);
  }
  table.append(caption, thead, body);
  // Its own scroll box on a narrow screen, reachable by keyboard (a scrollable region).
  const wrap = document.createElement("div");
  wrap.className = "table-wrap calibration-wrap";
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", "Calibration by decile");
  wrap.append(table);
  return wrap;
}

export function closeTrackRecord() {
  if (curveChart) curveChart.remove();
  curveChart = null;
  $("track").hidden = true;
}

export async function showTrackRecord(strategy, token) {
  closeTrackRecord();
  const section = $("track");
  section.hidden = false;
  section.dataset.strategy = strategy;
  delete section.dataset.ready;
  $("track-title").textContent = `How ${strategy} has done`;
  $("track-summary").textContent = "Loading its walk-forward evaluation…";
  $("track-curve").replaceChildren();
  $("track-calibration").replaceChildren();
  let record;
  try {
    ({ body: record } = await request("GET", `/api/v1/strategies/${encodeURIComponent(strategy)}/evaluation`, { token }));
  } catch (err) {
    $("track-summary").textContent = `The track record could not be loaded: ${err.message}`;
    return;
  }
  if (section.dataset.strategy !== strategy) return;
  section.dataset.status = record.status;
  if (record.status !== "ready") {
    $("track-summary").textContent =
      record.status === "computing"
        ? "Its walk-forward evaluation is being computed on this data; ask again shortly."
        : `No track record: ${record.note || "it cannot be evaluated"}.`;
    section.dataset.ready = "true";
    return;
  }
  $("track-summary").textContent = summaryText(record);
  if (record.curve.length) {
    const box = document.createElement("div");
    box.className = "track-chart";
    $("track-curve").append(box);
    drawCurve(box, record);
  }
  if (record.calibration.length) {
    $("track-calibration").append(calibrationPlot(record.calibration), calibrationTable(record.calibration));
  }
  section.dataset.ready = "true";
}
