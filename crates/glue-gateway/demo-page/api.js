// The gateway's API. The access token lives only in this module's closure:
// never in the DOM, localStorage, sessionStorage or the console.

import { pkcePair, randomState } from "./pkce.js";

const JSON_API = "application/vnd.api+json";
const FORM = "application/x-www-form-urlencoded";
const INCLUDE =
  "include=picking-list-items,concrete-products,sales-orders,sales-shipments,concrete-product-image-sets";

/** An error answer of the gateway, rendered from Glue's error body. */
export class ApiError extends Error {
  constructor(status, errors, retryAfter) {
    const first = errors[0] || {};
    super(first.message || `HTTP ${status}`);
    this.status = status;
    this.code = first.code ?? null;
    this.retryAfter = retryAfter;
  }
}

/** The gateway could not be reached from this origin (CORS or network). */
export class Unreachable extends Error {}

export function createApi(base) {
  let token = null;
  // The last code exchange, kept (in memory) only to show that a replay is
  // refused.
  let lastExchange = null;

  async function request(method, path, { body, contentType, auth = true } = {}) {
    const headers = { Accept: JSON_API };
    if (contentType) headers["Content-Type"] = contentType;
    if (auth && token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(base + path, { method, headers, body, mode: "cors", credentials: "omit" });
    } catch (e) {
      throw new Unreachable(
        `The gateway at ${base} cannot be reached from ${location.origin}: the browser blocked the ` +
          "request (is this origin in GLUE_BACKEND_CORS_ALLOW_ORIGIN?) or the gateway is down."
      );
    }
    const text = await res.text();
    let doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch { doc = null; }
    if (!res.ok) {
      const errors = Array.isArray(doc) ? doc : (doc && doc.errors) || [];
      const retry = res.headers.get("Retry-After");
      throw new ApiError(res.status, errors, retry ? Number(retry) : null);
    }
    return doc;
  }

  const form = (params) => new URLSearchParams(params).toString();

  return {
    loggedIn: () => token !== null,
    logout() { token = null; },

    /** The Fulfillment App's login: /authorize with PKCE S256, then the code exchange. */
    async login(username, password) {
      const { verifier, challenge } = await pkcePair();
      const state = randomState();
      const redirectUri = location.origin + location.pathname;
      const answer = await request("POST", "/authorize", {
        auth: false,
        contentType: FORM,
        body: form({
          response_type: "code", client_id: "frontend", redirect_uri: redirectUri, scope: "user",
          code_challenge: challenge, code_challenge_method: "S256", state, username, password,
        }),
      });
      const first = Array.isArray(answer) ? answer[0] : null;
      if (!first || first.state !== state || typeof first.code !== "string") {
        throw new ApiError(400, [{ message: "The authorization answer does not match this login." }]);
      }
      lastExchange = form({
        grant_type: "authorization_code", client_id: "frontend", code: first.code,
        redirect_uri: redirectUri, code_verifier: verifier,
      });
      const tokens = await request("POST", "/token", { auth: false, contentType: FORM, body: lastExchange });
      token = tokens.access_token;
    },

    /** Sends the last code exchange again, verbatim: the gateway must refuse it. */
    replay: () => request("POST", "/token", { auth: false, contentType: FORM, body: lastExchange }),

    assignments: () => request("GET", "/warehouse-user-assignments"),
    activate: (id) => request("PATCH", `/warehouse-user-assignments/${encodeURIComponent(id)}`, {
      contentType: JSON_API,
      body: JSON.stringify({ data: { type: "warehouse-user-assignments", attributes: { isActive: true } } }),
    }),
    pickingLists: () => request("GET",
      `/picking-lists?${INCLUDE}&filter[picking-lists.status]=ready-for-picking`),
    start: (id) => request("POST", `/picking-lists/${encodeURIComponent(id)}/start-picking?${INCLUDE}`, {
      contentType: JSON_API, body: JSON.stringify({ data: { type: "start-picking" } }),
    }),
    pick: (listId, items) => request("PATCH", `/picking-lists/${encodeURIComponent(listId)}/picking-list-items?${INCLUDE}`, {
      contentType: JSON_API,
      body: JSON.stringify({ data: items.map((i) => ({
        id: i.id, type: "picking-list-items",
        attributes: { numberOfPicked: i.picked, numberOfNotPicked: i.notPicked },
      })) }),
    }),
  };
}
