// The console in Firefox (Debian's firefox-esr), driven over WebDriver BiDi by puppeteer-core: no
// browser download, no geckodriver. tests/e2e/test_console_firefox.py runs it under Xvfb (Firefox
// has WebGL there through Mesa's llvmpipe; headless it has none) and checks what it prints.
// node e2e/firefox.mjs <console url> <email> <password> <task id> <search> <artifacts dir>
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const [base, email, password, taskId, search, artifacts] = process.argv.slice(2);
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const TIMEOUT = 15_000;
const log = [];
const seen = {};

async function settledFeatures(page) {
  const map = await page.waitForSelector('[data-testid="map"][data-features]', { timeout: TIMEOUT });
  return Number(await map.evaluate((element) => element.dataset.features));
}

async function walk(page) {
  await page.goto(`${base}/console/`);
  await page.type("#login-email", email);
  await page.type("#login-password", password);
  await page.click('button[type="submit"]');
  await page.waitForSelector('[data-testid="who"]', { timeout: TIMEOUT });
  seen.who = await page.$eval('[data-testid="who"]', (element) => element.textContent);

  await page.goto(`${base}/console/registry?search=${encodeURIComponent(search)}`);
  await page.waitForSelector('tbody[aria-busy="false"] tr td', { timeout: TIMEOUT }); // rows, not "Loading…"
  seen.listed = await page.$$eval("tbody tr td:first-child", (cells) => cells.map((cell) => cell.textContent));
  seen.features = await settledFeatures(page);
  await page.screenshot({ path: join(artifacts, "firefox-map.png") });

  await page.goto(`${base}/console/tasks/${taskId}`);
  await page.waitForSelector('[data-testid="task-status"][data-status="SUCCESS"]', { timeout: TIMEOUT });
  seen.progress = await page.$eval('[data-testid="progress-bar"]', (bar) => [bar.value, bar.max]);
  await page.screenshot({ path: join(artifacts, "firefox-task.png") });

  // A reload keeps the session; logging out ends it.
  await page.reload();
  await page.waitForSelector('[data-testid="who"]', { timeout: TIMEOUT });
  const [logout] = await page.$$("xpath/.//button[normalize-space()='Log out']");
  await logout.click();
  await page.waitForSelector("#login-email", { timeout: TIMEOUT });
  seen.loggedOut = true;
}

mkdirSync(artifacts, { recursive: true });
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: FIREFOX,
  headless: false,
  // Nothing from the network but the console: no updates, telemetry or experiments on a closed network.
  extraPrefsFirefox: { "browser.region.network.url": "", "network.connectivity-service.enabled": false },
});
let failed = null;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
  try {
    await walk(page);
  } catch (error) {
    failed = String(error?.stack || error);
    await page.screenshot({ path: join(artifacts, "firefox-failure.png") }).catch(() => {});
  }
  seen.version = await browser.version();
} finally {
  await browser.close();
}
writeFileSync(join(artifacts, "firefox-console.log"), log.join("\n") + "\n");
console.log(JSON.stringify({ ...seen, failed, pageErrors: log.filter((line) => line.startsWith("pageerror")) }));
