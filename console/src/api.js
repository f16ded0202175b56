// The one way the console talks to the API: JSON in and out, the bearer token, the API's error
// shape {"error": {code, message, details}} turned into ApiError, and cursor paging.
import { currentToken, endSession } from "./session.js";
import { t } from "./strings.js";

const BASE = (document.querySelector('meta[name="georegistry-api"]')?.content || "").replace(/\/$/, "");

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }

  // The field a 400 names ({"field": ...}), so a form can show the message beside it.
  get field() {
    return this.details.field ?? null;
  }
}

// The absolute URL of an API path with a query (empty values left out): for fetch, and for MapLibre.
export function apiUrl(path, query = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  return url.toString();
}

export async function api(method, path, { body, query } = {}) {
  const url = apiUrl(path, query);
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  const parsed = await response.json().catch(() => null);
  if (response.ok) return parsed;
  const error = parsed?.error;
  if (response.status === 401 && token) endSession("expired");
  if (error?.message) throw new ApiError(response.status, error.code, error.message, error.details);
  throw new ApiError(response.status, "unexpected", t("error.unexpected", { status: response.status }));
}

// One page of a list: {results, next_cursor}; pass next_cursor back as `cursor` for the next one.
export function page(path, query = {}, cursor = null, limit = 25) {
  return api("GET", path, { query: { ...query, cursor, limit } });
}

export const TERMINAL = new Set(["SUCCESS", "ERRORED", "KILLED"]);

// Every row of a paged list, page after page, up to `max` (for pickers: sources, versions, forms).
export async function allPages(path, query = {}, max = 2000) {
  const rows = [];
  let cursor = null;
  do {
    const answer = await page(path, query, cursor, 200);
    rows.push(...answer.results);
    cursor = answer.next_cursor;
  } while (cursor && rows.length < max);
  return rows;
}
