// The bearer token: kept for this tab only, minted in development mode, and
// read (never verified: the server does that) to show who is signed in.

import { request } from "./api.js";

const STORAGE_KEY = "oppscan.token";

export function storedToken() {
  return sessionStorage.getItem(STORAGE_KEY) || "";
}

export function storeToken(token) {
  if (token) sessionStorage.setItem(STORAGE_KEY, token);
  else sessionStorage.removeItem(STORAGE_KEY);
}

export async function mintToken(user) {
  const { body } = await request("POST", "/api/v1/dev/token", { body: { user } });
  return body.token;
}

// The claims a JWT carries, or null when it is not shaped like one.
export function claimsOf(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
  } catch {
    return null;
  }
}

export function describeToken(token) {
  const claims = token ? claimsOf(token) : null;
  if (!claims || typeof claims.sub !== "string") return "Not signed in";
  const role = claims.role === "admin" ? " (admin)" : "";
  const expires = Number.isFinite(claims.exp)
    ? `, token expires ${new Date(claims.exp * 1000).toLocaleString()}`
    : "";
  return `Signed in as ${claims.sub}${role}${expires}`;
}
