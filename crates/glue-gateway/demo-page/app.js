// The fulfillment page: log in (code flow + PKCE), choose the warehouse,
// work a pick list from start to finish. Plain DOM, no framework.

import { ApiError, Unreachable, createApi } from "./api.js";

const params = new URLSearchParams(location.search);
// The gateway: `?api=http://127.0.0.1:8080` when the page is served from
// another origin, else the page's own origin.
const api = createApi((params.get("api") || location.origin).replace(/\/$/, ""));
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function show(section) {
  for (const id of ["login", "warehouses", "picking"]) $(id).hidden = id !== section;
}

function say(kind, text) {
  const m = $("message");
  m.className = kind;
  m.textContent = text;
  m.hidden = !text;
}

/** Renders any failure; an expired or invalid token sends the user back to login. */
function fail(e) {
  if (e instanceof Unreachable) return say("error", e.message);
  if (e instanceof ApiError) {
    if (e.status === 401 && api.loggedIn()) {
      api.logout();
      show("login");
      $("who").textContent = "";
      return say("error", `Your session has ended (${e.message}). Please log in again.`);
    }
    const wait = e.status === 429 && e.retryAfter ? ` Try again in ${e.retryAfter} s.` : "";
    const code = e.code ? ` [${e.code}]` : "";
    return say("error", `${e.message}${code}${wait}`);
  }
  say("error", String(e && e.message ? e.message : e));
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  say("", "");
  $("login-button").disabled = true;
  try {
    const username = $("username").value;
    const password = $("password").value;
    $("password").value = "";
    await api.login(username, password);
    $("who").textContent = username;
    say("ok", "Logged in.");
    await loadWarehouses();
  } catch (e) {
    fail(e);
  } finally {
    $("login-button").disabled = false;
  }
});

$("logout").addEventListener("click", () => {
  api.logout();
  $("who").textContent = "";
  show("login");
  say("ok", "Logged out.");
});

// The last code exchange sent again: the gateway must refuse the spent code
// (a button for the demo and the browser tests).
$("replay").addEventListener("click", async () => {
  try {
    await api.replay();
    say("error", "The gateway accepted a replayed authorization code.");
  } catch (e) {
    fail(e);
  }
});

async function loadWarehouses() {
  const doc = await api.assignments();
  const list = $("warehouse-list");
  list.replaceChildren();
  const rows = Array.isArray(doc.data) ? doc.data : [doc.data];
  if (rows.length === 0) list.append(el("p", {}, "No warehouse is assigned to you."));
  for (const a of rows) {
    const w = a.attributes.warehouse || {};
    list.append(el("div", { class: "list" },
      el("strong", {}, w.name || "?"), " ",
      el("span", { class: "muted" }, a.attributes.isActive ? "(active) " : ""),
      el("button", { type: "button", "data-warehouse": w.name || "", onclick: () => choose(a) }, "Use this warehouse")));
  }
  show("warehouses");
}

async function choose(assignment) {
  try {
    if (!assignment.attributes.isActive) await api.activate(assignment.id);
    say("ok", `Warehouse ${assignment.attributes.warehouse.name} selected.`);
    await loadLists();
  } catch (e) {
    fail(e);
  }
}

/** Glue's compound document: the included resource of a relationship. */
function related(doc, resource, type) {
  const rel = resource.relationships && resource.relationships[type];
  const ids = rel ? (Array.isArray(rel.data) ? rel.data : [rel.data]) : [];
  return ids.map((r) => (doc.included || []).find((i) => i.type === r.type && i.id === r.id)).filter(Boolean);
}

async function loadLists() {
  const doc = await api.pickingLists();
  const lists = Array.isArray(doc.data) ? doc.data : [doc.data];
  const box = $("lists");
  box.replaceChildren();
  if (lists.length === 0) box.append(el("p", {}, "No open pick lists."));
  for (const l of lists) box.append(renderList(doc, l));
  show("picking");
}

function renderList(doc, list) {
  const items = related(doc, list, "picking-list-items");
  const order = items.length ? related(doc, items[0], "sales-orders")[0] : null;
  const box = el("div", { class: "list", "data-list": list.id },
    el("strong", {}, `Pick list …${list.id.slice(-6)}`), " ",
    el("span", { class: "muted status" }, list.attributes.status),
    order ? el("div", { class: "muted" }, `Order ${order.attributes.orderReference}`) : "");
  for (const item of items) {
    const product = related(doc, item, "concrete-products")[0];
    const images = product ? related(doc, product, "concrete-product-image-sets")[0] : null;
    const img = images && images.attributes.imageSets?.[0]?.images?.[0]?.externalUrlSmall;
    const a = item.attributes;
    box.append(el("div", { class: "item", "data-item": item.id },
      // A grey tile when the image cannot load (no network in the demo).
      img ? el("img", { src: img, alt: "", onerror: (ev) => ev.target.replaceWith(el("div", { class: "tile" })) })
        : el("div", { class: "tile" }),
      el("div", {}, el("div", {}, product ? product.attributes.name : a.orderItem.name),
        el("div", { class: "muted" }, `${product ? product.attributes.sku : a.orderItem.sku} · `,
          el("span", { class: "count" }, `${a.numberOfPicked} of ${a.quantity} picked`)))));
  }
  const status = list.attributes.status;
  if (status === "ready-for-picking") {
    box.append(el("button", { type: "button", class: "start", onclick: () => start(list.id) }, "Start picking"));
  } else if (status === "picking-started") {
    box.append(el("button", { type: "button", class: "finish", onclick: () => finish(list.id, items) }, "Pick all and finish"));
  } else {
    box.append(el("div", { class: "ok" }, "Picking finished."));
  }
  return box;
}

async function start(id) {
  try {
    const doc = await api.start(id);
    const list = Array.isArray(doc.data) ? doc.data[0] : doc.data;
    $("lists").replaceChildren(renderList(doc, list));
    say("ok", "Picking started.");
  } catch (e) {
    fail(e);
  }
}

async function finish(id, items) {
  try {
    const doc = await api.pick(id, items.map((i) => ({ id: i.id, picked: i.attributes.quantity, notPicked: 0 })));
    // Glue answers the picking list, as an array, with the items included (SPEC §7).
    const list = Array.isArray(doc.data) ? doc.data[0] : doc.data;
    $("lists").replaceChildren(renderList(doc, list));
    say("ok", "Pick list finished.");
  } catch (e) {
    fail(e);
  }
}

show("login");
