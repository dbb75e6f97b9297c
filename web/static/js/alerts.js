// The one alert box at the top of the page, and the name chips it may offer.

import { ApiError, explain } from "./api.js";

const $ = (id) => document.getElementById(id);
// Whether the alert shown came from following a scan, so it can go away by
// itself once the feed recovers; any other alert stays until dismissed.
let shownByFeed = false;

// error: an ApiError, or { title, message }. fromFeed: raised while polling,
// which retries by itself. choices: names offered as buttons calling onChoose.
export function showAlert(error, { choices = [], onChoose = null, kind = "error", fromFeed = false } = {}) {
  const isApi = error instanceof ApiError;
  const { title, message } = isApi ? explain(error, { retrying: fromFeed }) : error;
  $("alert-title").textContent = title;
  $("alert-message").textContent = message;
  const box = $("alert-choices");
  box.replaceChildren(...choices.map((name) => chip(name, false, () => onChoose(name))));
  box.hidden = choices.length === 0;
  $("alert").dataset.status = isApi ? String(error.status) : "";
  $("alert").dataset.kind = kind;
  $("alert").hidden = false;
  shownByFeed = fromFeed;
}

export function hideAlert() {
  $("alert").hidden = true;
  shownByFeed = false;
}

export function hideFeedAlert() {
  if (shownByFeed) hideAlert();
}

export function chip(name, pressed, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "chip";
  button.textContent = name;
  button.dataset.name = name;
  button.setAttribute("aria-pressed", String(pressed));
  button.addEventListener("click", onClick);
  return button;
}
