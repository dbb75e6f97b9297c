// Downloading a scan's results as CSV: fetched with the bearer token in a header
// (never in a URL), then saved from a blob.

import { ApiError, NO_RESPONSE } from "./api.js";

export async function downloadCsv(scanId, token) {
  let response;
  try {
    response = await fetch(`/api/v1/scans/${scanId}/results`, {
      headers: { Accept: "text/csv", Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(NO_RESPONSE, "network", `The service did not answer (${err.message}).`);
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || "download failed");
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `scan-${scanId}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}
