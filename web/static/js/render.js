// Drawing the scan and its opportunities. Text only goes in through textContent,
// so nothing a strategy writes can become markup.

import { TERMINAL } from "./feed.js";
import { probabilityCell, recordCell } from "./evidence.js";
import { ideaNotes, indexRows, rowId } from "./ideas.js";

const $ = (id) => document.getElementById(id);

const STATUS_TEXT = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  partial: "Partial",
  failed: "Failed",
  cancelled: "Cancelled",
  pending: "Pending",
  timed_out: "Timed out",
};
// How full a strategy's bar is: it either waits, runs, or is done one way or another.
const STRATEGY_FILL = { pending: 0, running: 50 };
const FULL = 100;
const MS_PER_S = 1000;
// The bundled source's name: its prices are simulated, and the page says so.
const SYNTHETIC_SOURCE = "bundled-synthetic";

export function statusText(status) {
  return STATUS_TEXT[status] || status;
}

export function formatPercent(fraction) {
  return `${(fraction * 100).toFixed(2)} %`;
}

// Evidence the API leaves null (computing, unavailable): a dash, not a zero.
function orUnknown(value, format) {
  return value === null || value === undefined ? NO_LEVEL : format(value);
}

// Seven significant digits read well from BTC (97,123.45) to sub-cent coins; the
// exact value stays in the cell's data-value and tooltip.
const PRICE_DIGITS = 7;
// A stop or target the idea does not have (a pair, a carry, a hedge): its levels_note says why.
const NO_LEVEL = "—";

function formatPrice(value) {
  if (value == null) return NO_LEVEL;
  return Number(value).toLocaleString("en-US", { maximumSignificantDigits: PRICE_DIGITS });
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

export function showScan(snapshot) {
  $("scan").hidden = false;
  $("scan-id").textContent = snapshot.scan_id;
  const symbols = snapshot.symbols.length;
  const started = snapshot.started_at ? `, started ${formatTime(snapshot.started_at)}` : "";
  const finished = snapshot.finished_at ? `, finished ${formatTime(snapshot.finished_at)}` : "";
  $("scan-meta").textContent =
    `${symbols} symbol${symbols === 1 ? "" : "s"}, created ${formatTime(snapshot.created_at)}` +
    `${started}${finished}`;
  const badge = $("scan-status");
  badge.textContent = statusText(snapshot.status);
  badge.dataset.status = snapshot.status;
  const progress = snapshot.progress;
  $("done-count").textContent = String(progress.strategies_completed);
  $("total-count").textContent = String(progress.total_strategies);
  $("found-count").textContent = String(progress.opportunities_found_so_far);
  $("scan-version").textContent = String(snapshot.version);
  $("percentage").textContent = `${progress.percentage} %`;
  $("overall-fill").style.width = `${progress.percentage}%`;
  $("overall-bar").setAttribute("aria-valuenow", String(progress.percentage));
  $("overall-bar").dataset.status = snapshot.status;
  showStrategies(snapshot.strategies);
}

function showStrategies(strategies) {
  const list = $("strategy-list");
  const template = $("strategy-template");
  const rows = new Map([...list.children].map((row) => [row.dataset.strategy, row]));
  for (const strategy of strategies) {
    let row = rows.get(strategy.name);
    if (!row) {
      row = template.content.firstElementChild.cloneNode(true);
      row.dataset.strategy = strategy.name;
      row.querySelector(".strategy-name").textContent = strategy.name;
      row.querySelector(".bar").setAttribute("aria-label", `${strategy.name} progress`);
      list.append(row);
    }
    fillStrategy(row, strategy);
  }
}

function fillStrategy(row, strategy) {
  const fill = STRATEGY_FILL[strategy.status] ?? FULL;
  row.dataset.status = strategy.status;
  row.querySelector(".fill").style.width = `${fill}%`;
  const bar = row.querySelector(".bar");
  bar.setAttribute("aria-valuenow", String(fill));
  bar.setAttribute("aria-valuetext", statusText(strategy.status));
  const badge = row.querySelector(".strategy-status");
  badge.textContent = statusText(strategy.status);
  badge.dataset.status = strategy.status;
  const found = row.querySelector(".strategy-found");
  found.textContent = findingsText(strategy);
  found.dataset.count = String(strategy.opportunities);
  const reason = row.querySelector(".strategy-reason");
  reason.textContent = topReasonText(strategy);
  reason.hidden = !reason.textContent;
  const time = row.querySelector(".strategy-time");
  time.textContent =
    strategy.duration_ms == null ? "" : `${(strategy.duration_ms / MS_PER_S).toFixed(2)} s`;
  const error = row.querySelector(".strategy-error");
  error.textContent = strategy.error || "";
  error.hidden = !strategy.error;
}

// "1 fired / 10 evaluated / 9 skipped": what the strategy looked at.
export function findingsText(strategy) {
  const counts = strategy.skipped_counts || {};
  const skipped = Object.values(counts).reduce((sum, count) => sum + count, 0);
  return `${strategy.opportunities} fired / ${strategy.evaluated ?? 0} evaluated / ${skipped} skipped`;
}

// The most frequent skip reason with one example: "no_signal (9): BTC/USDT RSI 48 inside 30-70".
export function topReasonText(strategy) {
  const counts = strategy.skipped_counts || {};
  const codes = Object.keys(counts);
  if (codes.length === 0) return "";
  const top = codes.reduce((best, code) =>
    counts[code] > counts[best] || (counts[code] === counts[best] && best === "no_signal")
      ? code
      : best,
  );
  const example = (strategy.skipped || []).find((skip) => skip.code === top);
  return `${top} (${counts[top]})` + (example ? `: ${example.symbol} ${example.message}` : "");
}

export function setStatusLine(text) {
  $("status-line").textContent = text;
}

export function setTransport(mode, text) {
  const badge = $("transport");
  badge.dataset.mode = mode;
  badge.textContent = text;
}

// onChart(opportunity, button): a row's symbol was selected (its chart).
export function showResults(envelope, { onChart = null } = {}) {
  const section = $("results");
  section.hidden = false;
  section.dataset.version = String(envelope.version);
  // The API ranks them: best expected value first, those without evidence last.
  const rows = envelope.opportunities;
  $("results-count").textContent = String(rows.length);
  $("results-empty").hidden = rows.length > 0;
  $("results-table-wrap").hidden = rows.length === 0;
  const final = TERMINAL.has(envelope.status);
  $("results-empty").textContent = final
    ? "This scan found no opportunities."
    : "No opportunities yet.";
  const asOf = envelope.market_data_as_of
    ? `Market data as of ${new Date(envelope.market_data_as_of).toLocaleString()}`
    : "";
  const source = envelope.data_source ? `(${envelope.data_source})` : "";
  $("synthetic-notice").hidden = envelope.data_source !== SYNTHETIC_SOURCE;
  const scope = final ? `final (${statusText(envelope.status).toLowerCase()})` : "so far";
  $("results-meta").textContent = [[asOf, source].filter(Boolean).join(" "), scope]
    .filter(Boolean)
    .join(" · ");
  const links = indexRows(rows);
  $("results-body").replaceChildren(
    ...rows.map((row, index) => resultRow(row, index, onChart, links)),
  );
}

function evidenceNote(opportunity) {
  return opportunity.evidence_note || `evidence ${opportunity.evidence_status || "unavailable"}`;
}

function resultRow(opportunity, index, onChart, links) {
  const row = document.createElement("tr");
  row.id = rowId(index + 1);
  if (opportunity.group_id) row.dataset.group = opportunity.group_id;
  if ((opportunity.conflicts || []).length) row.dataset.conflict = "true";
  const cells = [
    [String(index + 1)],
    [symbolCell(opportunity, onChart)],
    [opportunity.side, "side"],
    [strategyCell(opportunity, ideaNotes(opportunity, index + 1, links)), "idea"],
    [
      orUnknown(opportunity.expected_value_pct, (v) => `${v.toFixed(2)} %`),
      "num",
      opportunity.expected_value_pct,
    ],
    [probabilityCell(opportunity), "num", opportunity.probability],
    [recordCell(opportunity), "num record-col"],
    [formatPercent(opportunity.expected_return), "num", opportunity.expected_return],
    [opportunity.risk_reward.toFixed(2), "num", opportunity.risk_reward],
    [formatPrice(opportunity.entry), "num", opportunity.entry],
    [formatPrice(opportunity.stop), "num", opportunity.stop ?? undefined],
    [formatPrice(opportunity.target), "num", opportunity.target ?? undefined],
    [opportunity.horizon],
  ];
  for (const [content, className, value] of cells) {
    const cell = document.createElement("td");
    cell.append(content);
    if (className) cell.className = className;
    if (className === "side") cell.dataset.side = content;
    if (value !== undefined) {
      // Evidence not there (yet): an empty value, and the note saying why.
      cell.dataset.value = value === null ? "" : String(value);
      cell.title = value === null ? evidenceNote(opportunity) : String(value);
    } else if (content === NO_LEVEL) {
      cell.title = opportunity.levels_note || ""; // why this idea has no such level
    }
    row.append(cell);
  }
  return row;
}

// Selecting an opportunity (its symbol) opens its chart.
function symbolCell(opportunity, onChart) {
  if (!onChart) return opportunity.symbol;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "chart-button";
  button.textContent = opportunity.symbol;
  button.title = "Open the chart";
  button.setAttribute(
    "aria-label",
    `${opportunity.symbol}: chart of the ${opportunity.side} idea of ${opportunity.strategy}`,
  );
  button.addEventListener("click", () => onChart(opportunity, button));
  return button;
}

// The strategy's name, under it the sentence saying why it fired, then its legs,
// its idea's other rows and its conflicts.
function strategyCell(opportunity, notes) {
  const wrapper = document.createElement("div");
  const name = document.createElement("span");
  name.className = "idea-strategy";
  name.textContent = opportunity.strategy;
  const why = document.createElement("span");
  why.className = "idea-why";
  why.textContent = opportunity.rationale;
  wrapper.append(name, why);
  if (notes) wrapper.append(notes);
  return wrapper;
}

export function clearResults() {
  $("results").hidden = true;
  $("results").dataset.version = "0";
  $("results-body").replaceChildren();
  $("strategy-list").replaceChildren();
}
