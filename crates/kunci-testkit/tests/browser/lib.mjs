// What the browser scripts (signin.mjs, device.mjs) share: reading their environment, launching
// Debian's Chromium headless, recording what a person would not see in a screenshot, reading a
// page's facts, and running one scenario per locale with one JSON line each on stdout.

import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
}

// Console errors, script errors, HTTP errors and failed requests (except those `ignore` accepts).
export function watchProblems(page, ignore = () => false) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location()?.url ?? '?'})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (resp) => {
    if (resp.status() >= 400) problems.push(`HTTP ${resp.status()} for ${resp.url()}`);
  });
  page.on('requestfailed', (req) => {
    if (!ignore(req.url())) problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  return problems;
}

export async function pageFacts(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    title: document.title,
    h1: document.querySelector('h1')?.textContent.trim() ?? null,
    text: document.body.innerText,
  }));
}

// Runs `scenario(browser, locale, input)` for each entry of `inputs` (locale -> input), printing
// its result as one JSON line; exits non-zero on the first failure.
export async function runPerLocale(inputs, scenario) {
  mkdirSync(env('KUNCI_SCREENSHOTS'), { recursive: true });
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM_PATH', '/usr/bin/chromium'),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  let failed = false;
  try {
    for (const [locale, input] of Object.entries(inputs)) {
      console.log(JSON.stringify(await scenario(browser, locale, input)));
    }
  } catch (err) {
    console.error(err.stack ?? String(err));
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
