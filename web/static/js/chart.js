// The chart of one opportunity: the candles its rule saw (the scan's own market
// data, from GET /api/v1/scans/{id}/candles), entry, stop and target as price
// lines, the signal bar marked, and the rule's indicators. A multi-leg idea gets
// one chart per symbol it trades, each with its legs' orders as price lines.
// Drawn with TradingView's lightweight-charts (vendored, global LightweightCharts).

import { request } from "./api.js";
import { closeTrackRecord, showTrackRecord } from "./track.js";

const $ = (id) => document.getElementById(id);
// A pair's chart shows its spread's z-score against the other leg.
const PAIR_STRATEGIES = new Set(["pairs_trading"]);
const CHART_BARS = 300;
const MS_PER_S = 1000;
// The oscillator pane (a z-score) takes this share of the chart's height.
const OSCILLATOR_PANE_STRETCH = 0.45;
const PRICE_DIGITS = 7;

let charts = [];
let opener = null;

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function formatPrice(value) {
  return Number(value).toLocaleString("en-US", { maximumSignificantDigits: PRICE_DIGITS });
}

function sideColor(side) {
  return side === "short" ? cssColor("--bad") : cssColor("--ok");
}

// The symbols the idea trades, the opportunity's own first.
function symbolsOf(opportunity) {
  return [...new Set([opportunity.symbol, ...(opportunity.legs || []).map((leg) => leg.symbol)])];
}

function candlesPath(scanId, opportunity, symbol) {
  const query = new URLSearchParams({ symbol, bars: String(CHART_BARS) });
  if (symbol === opportunity.symbol) {
    query.set("strategy", opportunity.strategy);
    const others = symbolsOf(opportunity).filter((s) => s !== symbol);
    if (PAIR_STRATEGIES.has(opportunity.strategy) && others.length === 1) {
      query.set("versus", others[0]);
    }
  }
  return `/api/v1/scans/${scanId}/candles?${query}`;
}

// The price lines of one chart: the idea's levels on its own symbol, and the
// orders of its legs on each symbol (a pair's first leg is its entry: not twice).
function levelsFor(opportunity, symbol) {
  const levels = [];
  if (symbol === opportunity.symbol) {
    levels.push({ role: "entry", title: "entry", price: opportunity.entry, color: cssColor("--accent") });
    if (opportunity.stop != null) {
      levels.push({ role: "stop", title: "stop", price: opportunity.stop, color: cssColor("--bad") });
    }
    if (opportunity.target != null) {
      levels.push({ role: "target", title: "target", price: opportunity.target, color: cssColor("--ok") });
    }
  }
  for (const leg of opportunity.legs || []) {
    if (leg.symbol !== symbol) continue;
    if (symbol === opportunity.symbol && leg.price === opportunity.entry && leg.side === opportunity.side) {
      continue;
    }
    const verb = leg.side === "short" ? "sell" : "buy";
    levels.push({
      role: "leg",
      title: `${verb} ×${leg.ratio}`,
      price: leg.price,
      color: sideColor(leg.side),
    });
  }
  return levels;
}

// The bar the rule fired on: the candle at the idea's as-of, else the last one.
function signalTime(opportunity, candles) {
  const asOf = Math.floor(Date.parse(opportunity.as_of) / MS_PER_S);
  const found = candles.find((candle) => candle.time === asOf);
  return found ? found.time : candles[candles.length - 1].time;
}

function chartOptions() {
  return {
    autoSize: true,
    layout: {
      background: { color: cssColor("--surface") },
      textColor: cssColor("--muted"),
      // The logo injects a <style> the page's CSP refuses; the panel credits
      // TradingView in its own markup instead, as their licence notes allow.
      attributionLogo: false,
      panes: { separatorColor: cssColor("--border") },
    },
    grid: { vertLines: { color: cssColor("--track") }, horzLines: { color: cssColor("--track") } },
    rightPriceScale: { borderColor: cssColor("--border") },
    timeScale: { borderColor: cssColor("--border"), timeVisible: true, secondsVisible: false },
  };
}

// A perpetual is served as its closes (open = high = low = close): a line, not candles.
function closesOnly(candles) {
  return candles.every((c) => c.open === c.close && c.high === c.close && c.low === c.close);
}

// Enough decimals for the price's size: 2 for BTC, 6 for a coin at 0.05.
const PRICE_SIGNIFICANT = 4;
const MIN_DECIMALS = 2;

function priceFormat(candles) {
  const price = Math.abs(candles[candles.length - 1].close) || 1;
  const precision = Math.max(MIN_DECIMALS, PRICE_SIGNIFICANT - 1 - Math.floor(Math.log10(price)));
  return { type: "price", precision, minMove: 10 ** -precision };
}

function draw(container, data, opportunity, levels) {
  const LWC = window.LightweightCharts;
  const chart = LWC.createChart(container, chartOptions());
  const line = closesOnly(data.candles);
  const series = line
    ? chart.addSeries(LWC.LineSeries, { color: cssColor("--accent"), lineWidth: 2 })
    : chart.addSeries(LWC.CandlestickSeries, {
        upColor: cssColor("--ok"),
        downColor: cssColor("--bad"),
        borderVisible: false,
        wickUpColor: cssColor("--ok"),
        wickDownColor: cssColor("--bad"),
      });
  series.applyOptions({ priceFormat: priceFormat(data.candles) });
  series.setData(line ? data.candles.map((c) => ({ time: c.time, value: c.close })) : data.candles);
  for (const level of levels) {
    series.createPriceLine({
      id: level.role,
      price: level.price,
      title: level.title,
      color: level.color,
      lineWidth: 2,
      lineStyle: level.role === "entry" ? LWC.LineStyle.Solid : LWC.LineStyle.Dashed,
      axisLabelVisible: true,
    });
  }
  let markers = null;
  if (data.symbol === opportunity.symbol) {
    const long = opportunity.side !== "short";
    markers = LWC.createSeriesMarkers(series, [
      {
        time: signalTime(opportunity, data.candles),
        position: long ? "belowBar" : "aboveBar",
        color: sideColor(opportunity.side),
        shape: long ? "arrowUp" : "arrowDown",
        text: `signal: ${opportunity.side}`,
      },
    ]);
  }
  drawIndicators(chart, data.indicators, LWC, priceFormat(data.candles));
  chart.timeScale().fitContent();
  // What the test (and a curious developer) reads back: the chart's own API.
  container.chartHandle = { chart, series, markers };
  return chart;
}

const INDICATOR_COLORS = ["--warn", "--accent", "--idle", "--ok", "--bad"];

function drawIndicators(chart, indicators, LWC, format) {
  indicators.forEach((indicator, index) => {
    const pane = indicator.pane === "oscillator" ? 1 : 0;
    const series = chart.addSeries(
      LWC.LineSeries,
      {
        color: cssColor(INDICATOR_COLORS[index % INDICATOR_COLORS.length]),
        lineWidth: 1,
        title: indicator.label,
        priceLineVisible: false,
        lastValueVisible: false,
        ...(pane === 0 ? { priceFormat: format } : {}),
      },
      pane,
    );
    series.setData(indicator.points);
    for (const level of indicator.levels) {
      series.createPriceLine({ price: level, color: cssColor("--border"), lineWidth: 1, axisLabelVisible: false });
    }
    if (pane === 1) chart.panes()[1].setStretchFactor(OSCILLATOR_PANE_STRETCH);
  });
}

function describe(data, levels) {
  const asOf = new Date(data.market_data_as_of).toLocaleString();
  const shown = levels.map((l) => `${l.title} ${formatPrice(l.price)}`).join(", ");
  return (
    `Candlestick chart of ${data.symbol}: ${data.candles.length} ${data.timeframe} candles up to ` +
    `${asOf}` + (shown ? `; price lines: ${shown}` : "") +
    (data.indicators.length ? `; indicators: ${data.indicators.map((i) => i.label).join(", ")}` : "")
  );
}

function figureFor(data, opportunity, levels) {
  const figure = $("chart-template").content.firstElementChild.cloneNode(true);
  figure.dataset.symbol = data.symbol;
  const role = data.symbol === opportunity.symbol ? "the idea" : "a leg";
  figure.querySelector(".chart-caption").textContent =
    `${data.symbol} · ${data.timeframe} · ${role}` + (data.note ? ` · ${data.note}` : "");
  // The canvas says nothing to a screen reader: this sentence does.
  figure.querySelector(".chart-summary").textContent = describe(data, levels);
  figure.querySelector(".chart-levels").replaceChildren(
    ...levels.map((level) => {
      const item = document.createElement("li");
      item.dataset.role = level.role;
      item.textContent = `${level.title} ${formatPrice(level.price)}`;
      item.style.setProperty("--level-color", level.color);
      return item;
    }),
  );
  return figure;
}

// The charts follow the page into dark mode and back (their colours are read, not CSS).
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const chart of charts) chart.applyOptions(chartOptions());
});

export function closeChart() {
  closeTrackRecord();
  for (const chart of charts) chart.remove();
  charts = [];
  $("chart-legs").replaceChildren();
  $("chart-panel").hidden = true;
  if (opener && opener.isConnected) opener.focus();
  opener = null;
}

// Open the chart of `opportunity` of scan `scanId`; `from` gets the focus back on close.
export async function openChart(scanId, opportunity, token, from = null) {
  closeChart();
  opener = from;
  const panel = $("chart-panel");
  panel.hidden = false;
  panel.dataset.opportunity = opportunity.opportunity_id || "";
  $("chart-title").textContent =
    `${opportunity.symbol} · ${opportunity.side} · ${opportunity.strategy}`;
  $("chart-meta").textContent = opportunity.levels_note || opportunity.rationale || "";
  $("chart-status").textContent = "Loading the scan's candles…";
  panel.scrollIntoView({ block: "nearest" });
  $("chart-title").focus();
  try {
    for (const symbol of symbolsOf(opportunity)) {
      const { body } = await request("GET", candlesPath(scanId, opportunity, symbol), { token });
      if (panel.dataset.opportunity !== (opportunity.opportunity_id || "")) return;
      const levels = levelsFor(opportunity, symbol);
      const figure = figureFor(body, opportunity, levels);
      $("chart-legs").append(figure);
      if (body.candles.length) charts.push(draw(figure.querySelector(".chart"), body, opportunity, levels));
    }
    $("chart-status").textContent = "";
    panel.dataset.ready = "true";
    await showTrackRecord(opportunity.strategy, token);
  } catch (err) {
    $("chart-status").textContent = `The chart could not be loaded: ${err.message}`;
  }
}
