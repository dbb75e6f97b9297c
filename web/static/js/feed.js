// Following one scan: the websocket feed first; polling the REST snapshot (with
// If-None-Match) when the socket cannot open or closes before a terminal state.

import { ApiError, NO_RESPONSE, request } from "./api.js";

export const TERMINAL = new Set(["completed", "partial", "failed", "cancelled"]);
// A socket that has not opened by then is treated as failed.
const SOCKET_OPEN_TIMEOUT_MS = 5000;
// Polling cadence: twice a second feels live, and an unchanged snapshot costs
// the server one Redis read and a bodiless 304.
const POLL_INTERVAL_MS = 500;
// Back-off when the service answers nothing and gives no Retry-After.
const NO_RESPONSE_RETRY_MS = 2000;
// Errors after which polling cannot succeed: the token or the scan is gone.
const FATAL_STATUSES = new Set([401, 403, 404, 410]);

// handlers: onSnapshot(snapshot), onMode("connecting" | "live" | "polling" | "done"),
// onError(ApiError, { fatal }), onRecovered(). Returns { stop() }.
export function followScan(scanId, token, handlers) {
  const path = `/api/v1/scans/${encodeURIComponent(scanId)}`;
  let lastVersion = 0;
  let etag = null;
  let stopped = false;
  let socket = null;
  let pollTimer = null;

  function accept(snapshot) {
    // Never show a version older than one already shown, whichever path it came
    // by, nor anything once stopped (a closing socket may still deliver).
    if (stopped || snapshot.version <= lastVersion) return;
    lastVersion = snapshot.version;
    handlers.onSnapshot(snapshot);
    if (TERMINAL.has(snapshot.status)) finish();
  }

  function finish() {
    if (stopped) return;
    stopped = true;
    clearTimeout(pollTimer);
    handlers.onMode("done");
  }

  function openSocket() {
    handlers.onMode("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The token rides in the subprotocol list, not the URL, so it stays out of access logs.
    socket = new WebSocket(`${scheme}://${location.host}${path}/ws`, ["bearer", token]);
    const openTimer = setTimeout(() => socket.close(), SOCKET_OPEN_TIMEOUT_MS);
    socket.onopen = () => {
      clearTimeout(openTimer);
      if (!stopped) handlers.onMode("live");
    };
    socket.onmessage = (event) => accept(JSON.parse(event.data));
    socket.onclose = () => {
      clearTimeout(openTimer);
      socket = null;
      // A normal close follows the terminal snapshot; anything else means polling.
      if (!stopped) startPolling();
    };
  }

  function startPolling() {
    handlers.onMode("polling");
    poll();
  }

  async function poll() {
    if (stopped) return;
    let delayMs = POLL_INTERVAL_MS;
    try {
      const response = await request("GET", path, { token, etag });
      if (response.status !== 304) {
        etag = response.etag;
        accept(response.body);
      }
      handlers.onRecovered();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const fatal = FATAL_STATUSES.has(err.status);
      handlers.onError(err, { fatal });
      if (fatal) {
        stopped = true;
        handlers.onMode("stopped");
        return;
      }
      if (err.retryAfterS) delayMs = err.retryAfterS * 1000;
      else if (err.status === NO_RESPONSE) delayMs = NO_RESPONSE_RETRY_MS;
    }
    if (!stopped) pollTimer = setTimeout(poll, delayMs);
  }

  openSocket();
  return {
    stop() {
      stopped = true;
      clearTimeout(pollTimer);
      if (socket) socket.close();
    },
  };
}
