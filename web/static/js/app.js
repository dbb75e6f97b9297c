// The page's wiring: forms, the scan being followed, and its results.

import { chip, hideAlert, hideFeedAlert, showAlert } from "./alerts.js";
import { ApiError, request } from "./api.js";
import { closeChart, openChart } from "./chart.js";
import { downloadCsv } from "./export.js";
import { followScan, TERMINAL } from "./feed.js";
import { loadHistory } from "./history.js";
import {
  clearResults,
  setStatusLine,
  setTransport,
  showResults,
  showScan,
  statusText,
} from "./render.js";
import { describeToken, mintToken, storedToken, storeToken } from "./token.js";

const $ = (id) => document.getElementById(id);
const SCAN_ID_PATTERN = /^[0-9a-f]{32}$/;
const TRANSPORT_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  polling: "Polling",
  done: "Finished",
  stopped: "Stopped",
};

const state = {
  token: "",
  follower: null,
  scanId: null,
  snapshot: null,
  resultsFetching: false,
  resultsStale: false,
};

// ---- token ----

function useToken(token) {
  state.token = token.trim();
  storeToken(state.token);
  $("token").value = state.token;
  $("identity").textContent = describeToken(state.token);
  refreshHistory();
}

function refreshHistory() {
  loadHistory(state.token, state.scanId, (scanId) => {
    hideAlert();
    if (scanId !== state.scanId) follow(scanId);
  });
}

async function onMint(event) {
  event.preventDefault();
  const user = $("mint-user").value.trim();
  if (!user) {
    showAlert({ title: "Name a user", message: "The token is minted for this user id." });
    return;
  }
  try {
    useToken(await mintToken(user));
    hideAlert();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      showAlert({
        title: "Token minting is off",
        message: "The service is not in development mode (oppscan serve --dev). Paste a token instead.",
      });
    } else {
      showAlert(err);
    }
  }
}

// ---- strategy and symbol fields ----

function namesIn(field) {
  return field.value
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
}

function toggleName(field, name) {
  const names = namesIn(field);
  const next = names.includes(name) ? names.filter((n) => n !== name) : [...names, name];
  field.value = next.join(", ");
  syncChips();
}

function syncChips() {
  const chosen = new Set(namesIn($("strategies")));
  for (const button of $("strategy-choices").children) {
    button.setAttribute("aria-pressed", String(chosen.has(button.dataset.name)));
  }
}

// The OpenAPI document names the strategies this service knows (the request
// schema's enum); without it the text field alone still works.
async function loadStrategyChoices() {
  try {
    const { body } = await request("GET", "/api/v1/openapi.json");
    const schema = body.components.schemas.ScanRequest.properties.strategies;
    const names = schema.anyOf.find((option) => option.type === "array").items.enum;
    const field = $("strategies");
    $("strategy-choices").replaceChildren(
      ...names.map((name) => chip(name, false, () => toggleName(field, name))),
    );
    $("strategy-choices").hidden = names.length === 0;
    syncChips();
  } catch {
    $("strategy-choices").hidden = true;
  }
}

// ---- the scan ----

async function onStart(event) {
  event.preventDefault();
  if (!state.token) {
    showAlert({ title: "No token", message: "Paste a token or mint one first." });
    return;
  }
  const body = {};
  const strategies = namesIn($("strategies"));
  const symbols = namesIn($("symbols"));
  if (strategies.length) body.strategies = strategies;
  if (symbols.length) body.symbols = symbols;
  $("start-button").disabled = true;
  try {
    const response = await request("POST", "/api/v1/scans", { token: state.token, body });
    hideAlert();
    // Already following this very scan (the API returned the active one): carry on.
    if (response.body.scan_id !== state.scanId) follow(response.body.scan_id, response.body);
    if (response.status === 200) {
      showAlert(
        {
          title: "You already have a scan running",
          message: "One scan at a time: this is the one you started earlier, followed here.",
        },
        { kind: "info" },
      );
    }
  } catch (err) {
    showStartError(err);
  } finally {
    $("start-button").disabled = false;
  }
}

function showStartError(err) {
  const valid = (err instanceof ApiError && err.status === 422 && err.details.valid) || [];
  const field = err.code === "invalid_symbols" ? $("symbols") : $("strategies");
  showAlert(err, {
    choices: valid,
    onChoose: (name) => {
      toggleName(field, name);
      field.focus();
    },
  });
  if (valid.length) {
    $("alert-message").textContent += " Valid names (click to add):";
  }
}

function follow(scanId, firstSnapshot = null) {
  if (state.follower) state.follower.stop();
  clearResults();
  closeChart();
  state.scanId = scanId;
  state.snapshot = null;
  history.replaceState(null, "", `#scan=${scanId}`);
  $("cancel-button").disabled = false;
  if (firstSnapshot) onSnapshot(firstSnapshot);
  $("scan").scrollIntoView({ block: "nearest" });
  state.follower = followScan(scanId, state.token, {
    onSnapshot,
    onMode: (mode) => setTransport(mode, TRANSPORT_TEXT[mode] || mode),
    onError: (err, { fatal }) => {
      showAlert(err, { fromFeed: !fatal });
      if (fatal) $("cancel-button").disabled = true;
    },
    onRecovered: () => {
      hideFeedAlert();
    },
  });
}

function onSnapshot(snapshot) {
  if (state.snapshot && snapshot.version <= state.snapshot.version) return;
  const previous = state.snapshot;
  state.snapshot = snapshot;
  showScan(snapshot);
  setStatusLine(describeProgress(snapshot));
  const terminal = TERMINAL.has(snapshot.status);
  $("cancel-button").disabled = terminal;
  // A scan that ends, or is seen for the first time, changes the history list.
  if (!previous || (terminal && !TERMINAL.has(previous.status))) refreshHistory();
  const found = snapshot.progress.opportunities_found_so_far;
  if (terminal || !previous || found !== previous.progress.opportunities_found_so_far) {
    refreshResults();
  }
}

function describeProgress(snapshot) {
  const { strategies_completed: done, total_strategies: total } = snapshot.progress;
  const found = snapshot.progress.opportunities_found_so_far;
  const opportunities = `${found} opportunit${found === 1 ? "y" : "ies"}`;
  switch (snapshot.status) {
    case "queued":
      return "Queued: waiting for a worker to pick the scan up.";
    case "running":
      return `Running: ${done} of ${total} strategies done, ${opportunities} so far.`;
    case "cancelled": {
      const finished = snapshot.strategies.filter((s) => s.status !== "cancelled").length;
      return `Cancelled: ${finished} of ${total} strategies had finished; ${opportunities} kept.`;
    }
    case "failed":
      return `Failed: no strategy could run (${done} of ${total} reported).`;
    case "partial": {
      const inTime = snapshot.strategies.filter((s) => s.status === "completed").length;
      return `Partial: the deadline came first; ${inTime} of ${total} strategies finished in time, ${opportunities}.`;
    }
    default:
      return `${statusText(snapshot.status)}: ${done} of ${total} strategies, ${opportunities}.`;
  }
}

// One results request at a time; a change seen meanwhile triggers one more.
async function refreshResults() {
  if (state.resultsFetching) {
    state.resultsStale = true;
    return;
  }
  const scanId = state.scanId;
  state.resultsFetching = true;
  try {
    const path = `/api/v1/scans/${scanId}/results`;
    const { body } = await request("GET", path, { token: state.token });
    const shown = Number($("results").dataset.version);
    if (scanId === state.scanId && body.version >= shown) {
      showResults(body, {
        onChart: (opportunity, button) => openChart(scanId, opportunity, state.token, button),
      });
    }
  } catch (err) {
    if (err instanceof ApiError) showAlert(err);
  } finally {
    state.resultsFetching = false;
  }
  if (state.resultsStale) {
    state.resultsStale = false;
    refreshResults();
  }
}

async function onCancel() {
  if (!state.scanId) return;
  $("cancel-button").disabled = true;
  try {
    const response = await request("DELETE", `/api/v1/scans/${state.scanId}`, {
      token: state.token,
    });
    onSnapshot(response.body);
    // The feed may already have shown the end; only a scan still running is "cancelling".
    if (!TERMINAL.has(state.snapshot.status)) {
      setStatusLine("Cancelling: strategies still running are being stopped.");
    }
  } catch (err) {
    showAlert(err);
    $("cancel-button").disabled = false;
  }
}

async function onDownloadCsv() {
  if (!state.scanId) return;
  $("csv-button").disabled = true;
  try {
    await downloadCsv(state.scanId, state.token);
  } catch (err) {
    showAlert(err);
  } finally {
    $("csv-button").disabled = false;
  }
}

// ---- start-up ----

function init() {
  useToken(storedToken());
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useToken($("token").value);
    hideAlert();
  });
  $("mint-form").addEventListener("submit", onMint);
  $("scan-form").addEventListener("submit", onStart);
  $("strategies").addEventListener("input", syncChips);
  $("cancel-button").addEventListener("click", onCancel);
  $("alert-close").addEventListener("click", hideAlert);
  $("csv-button").addEventListener("click", onDownloadCsv);
  $("history-refresh").addEventListener("click", refreshHistory);
  $("chart-close").addEventListener("click", closeChart);
  $("chart-panel").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeChart();
  });
  loadStrategyChoices();
  // A reload keeps following the scan named in the address.
  const match = location.hash.match(/^#scan=(.+)$/);
  if (match && SCAN_ID_PATTERN.test(match[1]) && state.token) follow(match[1]);
}

init();
