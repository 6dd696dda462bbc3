// The fulfillment demo page in headless Chromium against the gateway binary
// (SPEC §2a, §7, §8): the whole flow from a second origin with CORS allowing
// it; the same with CORS unset; a wrong password; a throttled login; a
// replayed authorization code; an expired token. Run by scripts/browser-test.sh.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { SHOTS, launch, startGateway, startPageServer } from "./harness.mjs";

const PASSWORD = "change123";
let browser;
let page_server;

before(async () => {
  browser = await launch();
  page_server = await startPageServer();
});

after(async () => {
  await browser?.close();
  await page_server?.stop();
});

/** A fresh page on the second origin, talking to `gateway`; console lines collected. */
async function openPage(gateway) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(m.text()));
  await page.goto(`${page_server.origin}/demo/?api=${encodeURIComponent(gateway.base)}`);
  return { page, context, consoleLines };
}

async function logIn(page, password) {
  await page.fill("#password", password);
  await page.click("#login-button");
}

const message = (page) => page.locator("#message");

/** Tokens stay in memory: not in the DOM, storage or the console. */
async function assertNoTokenLeak(page, consoleLines) {
  const html = await page.content();
  assert.ok(!html.includes("eyJ"), "a JWT in the DOM");
  const stored = await page.evaluate(() => localStorage.length + sessionStorage.length);
  assert.equal(stored, 0, "web storage used");
  assert.ok(!consoleLines.some((l) => l.includes("eyJ")), "a JWT in the console");
}

test("whole flow from a second origin, CORS allowing it", async () => {
  const gw = await startGateway(["--database-url", "memory:", "--cors-allow-origin", page_server.origin]);
  const { page, context, consoleLines } = await openPage(gw);
  try {
    await page.screenshot({ path: join(SHOTS, "1-login.png") });
    await logIn(page, PASSWORD);
    await page.locator("#warehouses").waitFor({ state: "visible" });
    await page.screenshot({ path: join(SHOTS, "2-warehouses.png") });
    await page.click('button[data-warehouse="Warehouse1"]');
    await page.locator("#picking .list").first().waitFor();
    const lists = await page.locator("#picking .list").count();
    assert.ok(lists >= 1, "open pick lists shown");
    assert.ok((await page.locator("#picking .item").count()) >= 1, "items with products");
    await page.screenshot({ path: join(SHOTS, "3-pick-lists.png"), fullPage: true });
    await page.locator("button.start").first().click();
    await page.locator(".status", { hasText: "picking-started" }).waitFor();
    await page.screenshot({ path: join(SHOTS, "4-picking-started.png"), fullPage: true });
    await page.click("button.finish");
    await page.locator(".status", { hasText: "picking-finished" }).waitFor();
    for (const count of await page.locator(".count").allTextContents()) {
      const [picked, , quantity] = count.split(" ");
      assert.equal(picked, quantity, count);
    }
    await assert.doesNotReject(message(page).filter({ hasText: "Pick list finished." }).waitFor());
    await page.screenshot({ path: join(SHOTS, "5-finished.png"), fullPage: true });
    await assertNoTokenLeak(page, consoleLines);
  } finally {
    await context.close();
    await gw.stop();
  }
});

test("CORS unset: the browser blocks the login and the page says so", async () => {
  const gw = await startGateway(["--database-url", "memory:"]);
  const { page, context } = await openPage(gw);
  try {
    await logIn(page, PASSWORD);
    await message(page).filter({ hasText: "cannot be reached" }).waitFor();
    assert.match(await message(page).textContent(), /GLUE_BACKEND_CORS_ALLOW_ORIGIN/);
    assert.ok(await page.locator("#login").isVisible());
    await page.screenshot({ path: join(SHOTS, "6-cors-blocked.png") });
  } finally {
    await context.close();
    await gw.stop();
  }
});

test("wrong password, then throttled with its wait", async () => {
  const gw = await startGateway(["--database-url", "memory:", "--cors-allow-origin", page_server.origin]);
  const { page, context } = await openPage(gw);
  try {
    await logIn(page, "wrong");
    await message(page).filter({ hasText: "The user credentials were incorrect. [invalid_grant]" }).waitFor();
    await page.screenshot({ path: join(SHOTS, "7-wrong-password.png") });
    for (let i = 0; i < 4; i++) {
      await logIn(page, "wrong");
      await page.waitForFunction(() => !document.getElementById("login-button").disabled);
    }
    await logIn(page, PASSWORD);
    await message(page).filter({ hasText: "Too many unsuccessful login attempts." }).waitFor();
    assert.match(await message(page).textContent(), /Try again in \d+ s\./);
    await page.screenshot({ path: join(SHOTS, "8-throttled.png") });
  } finally {
    await context.close();
    await gw.stop();
  }
});

test("a replayed authorization code is refused", async () => {
  const gw = await startGateway(["--database-url", "memory:", "--cors-allow-origin", page_server.origin]);
  const { page, context } = await openPage(gw);
  try {
    await logIn(page, PASSWORD);
    await page.click('button[data-warehouse="Warehouse1"]');
    await page.locator("#picking").waitFor({ state: "visible" });
    await page.click("#replay");
    await message(page).filter({ hasText: "[invalid_request]" }).waitFor();
    assert.match(await message(page).textContent(), /^The request is missing a required parameter/);
  } finally {
    await context.close();
    await gw.stop();
  }
});

test("an expired token sends the user back to login", async () => {
  const gw = await startGateway([
    "--database-url", "memory:", "--cors-allow-origin", page_server.origin, "--user-token-ttl", "1",
  ]);
  const { page, context } = await openPage(gw);
  try {
    await logIn(page, PASSWORD);
    await page.locator("#warehouses").waitFor({ state: "visible" });
    await page.waitForTimeout(1600);
    await page.click('button[data-warehouse="Warehouse1"]');
    await message(page).filter({ hasText: "Please log in again." }).waitFor();
    assert.ok(await page.locator("#login").isVisible());
  } finally {
    await context.close();
    await gw.stop();
  }
});
