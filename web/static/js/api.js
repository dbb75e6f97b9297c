// The REST API: one place that sends requests and turns error envelopes into ApiError.

export class ApiError extends Error {
  constructor(status, code, message, details = {}, retryAfterS = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfterS = retryAfterS;
  }
}

// Status 0: the request never got an HTTP answer (server down, network gone).
export const NO_RESPONSE = 0;

export async function request(method, path, { token, body, etag } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // A hand-set If-None-Match makes fetch bypass its cache and hand us the 304.
  if (etag) headers["If-None-Match"] = etag;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(NO_RESPONSE, "network", `The service did not answer (${err.message}).`);
  }
  if (response.status === 304) return { status: 304, body: null, etag };
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    throw new ApiError(
      response.status,
      error.code || "http_" + response.status,
      error.message || response.statusText || "request failed",
      error.details,
      Number.isFinite(retry) ? retry : null,
    );
  }
  return { status: response.status, body: data, etag: response.headers.get("ETag") };
}

function sentence(text) {
  const trimmed = String(text || "").trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

// A sentence a person can act on, for each error the API documents.
// `retrying`: the page itself asks again (polling), so it says so instead of
// asking the person to.
export function explain(error, { retrying = false } = {}) {
  switch (error.status) {
    case 401:
      return {
        title: "Your token was not accepted",
        message: `${sentence(error.message)} Paste a valid token or mint a new one.`,
      };
    case 403:
      return { title: "Not allowed", message: error.message };
    case 404:
      return { title: "Not found", message: sentence(error.message) };
    case 410:
      return { title: "This scan has expired", message: error.message };
    case 422:
      return { title: "Check the scan request", message: sentence(error.message) };
    case 429:
      return { title: "Too many requests", message: "Slow down and try again shortly." };
    case 503: {
      const after = error.retryAfterS ? ` in ${error.retryAfterS} s` : " shortly";
      const wait = retrying ? ` Retrying${after}.` : ` Try again${after}.`;
      return {
        title: "The service is temporarily unavailable",
        message: `${sentence(error.message)}${wait}`,
      };
    }
    case NO_RESPONSE:
      return { title: "Cannot reach the service", message: error.message };
    default:
      return { title: `Request failed (${error.status})`, message: error.message };
  }
}
