// The user's recent scans (GET /api/v1/scans), each reopened with one click
// while its results are retained.

import { request } from "./api.js";
import { statusText } from "./render.js";

const $ = (id) => document.getElementById(id);
const HISTORY_LIMIT = 20;

function describe(snapshot) {
  const found = snapshot.progress.opportunities_found_so_far;
  const strategies = snapshot.progress.total_strategies;
  return (
    `${new Date(snapshot.created_at).toLocaleString()} · ${strategies} ` +
    `strateg${strategies === 1 ? "y" : "ies"} · ${found} opportunit${found === 1 ? "y" : "ies"}`
  );
}

function itemFor(snapshot, current, onOpen) {
  const item = $("history-template").content.firstElementChild.cloneNode(true);
  item.dataset.scanId = snapshot.scan_id;
  const open = item.querySelector(".history-open");
  open.textContent = snapshot.scan_id === current ? "Shown" : "Open";
  // The visible word first, so a voice command naming it finds the button.
  open.setAttribute("aria-label", `${open.textContent} scan of ${describe(snapshot)}`);
  open.addEventListener("click", () => onOpen(snapshot.scan_id));
  const badge = item.querySelector(".history-status");
  badge.textContent = statusText(snapshot.status);
  badge.dataset.status = snapshot.status;
  item.querySelector(".history-meta").textContent = describe(snapshot);
  return item;
}

// Fill the list; `current` is the scan on screen, `onOpen(scanId)` reopens one.
export async function loadHistory(token, current, onOpen) {
  if (!token) {
    $("history").hidden = true;
    return;
  }
  try {
    const { body } = await request("GET", `/api/v1/scans?limit=${HISTORY_LIMIT}`, { token });
    $("history").hidden = false;
    $("history-empty").hidden = body.scans.length > 0;
    $("history-list").replaceChildren(...body.scans.map((s) => itemFor(s, current, onOpen)));
  } catch {
    // A bad token is said where the token is used; the list just stays as it was.
  }
}
