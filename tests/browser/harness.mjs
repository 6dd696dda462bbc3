// Processes of the browser tests: the glue-gateway binary, a static server
// for the demo page on a second loopback origin, and headless Chromium.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHOTS = join(ROOT, "target", "browser-screenshots");
const PAGE_DIR = join(ROOT, "crates", "glue-gateway", "demo-page");

/** Starts the gateway in demo mode; resolves with its base URL and a stop(). */
export async function startGateway(args = []) {
  const bin = process.env.GLUE_GATEWAY_BIN || join(ROOT, "target", "debug", "glue-gateway");
  const dir = mkdtempSync(join(tmpdir(), "glue-browser-"));
  const env = { ...process.env, GLUE_GATEWAY_LOG: "info" };
  for (const k of ["GLUE_BACKEND_CORS_ALLOW_ORIGIN", "DATABASE_URL", "GLUE_GATEWAY_CONFIG", "RUST_LOG"]) delete env[k];
  const child = spawn(bin, ["--listen", "127.0.0.1:0", "--data-dir", join(dir, "data"), ...args], {
    cwd: dir, env, stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${stderr}`)), 30000);
    child.on("exit", (code) => reject(new Error(`gateway exited ${code}:\n${stderr}`)));
    lines.on("line", (line) => {
      const m = /^glue-gateway listening on (http:\/\/\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  return {
    base,
    logs: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Serves demo-page/ at /demo/ on its own loopback port (the second origin). */
export async function startPageServer() {
  const types = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8" };
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const name = path === "/demo/" ? "index.html" : path.replace(/^\/demo\//, "");
    if (!/^[a-z]+\.(html|js)$/.test(name)) { res.writeHead(404); return res.end(); }
    try {
      const body = readFileSync(join(PAGE_DIR, name));
      res.writeHead(200, { "content-type": types[name.split(".").pop()] });
      res.end(body);
    } catch { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, stop: () => new Promise((r) => server.close(r)) };
}

/** Headless Chromium: Debian's, or CHROMIUM_PATH. No name resolution but loopback. */
export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
  });
}
