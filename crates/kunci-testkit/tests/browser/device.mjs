// Connects a device through Kunci's real pages in headless Chromium, once per locale: types the
// user code on /device, signs in, approves on the confirmation page and reads the done page.
// Prints one JSON line per locale with what the Rust side asserts
// (crates/kunci-testkit/tests/it/browser_device.rs).
//
// Environment (all set by the Rust test):
//   KUNCI_DEVICE_CODES    JSON object: locale -> { "url": the /device URL, "code": user code }
//   KUNCI_EMAIL, KUNCI_PASSWORD   the account to sign in with
//   KUNCI_SCREENSHOTS     directory for device-entry-, device-confirm- and device-done-<locale>.png
//   CHROMIUM_PATH         the browser binary (default /usr/bin/chromium)

import { join } from 'node:path';
import { env, pageFacts, runPerLocale, watchProblems } from './lib.mjs';

const codes = JSON.parse(env('KUNCI_DEVICE_CODES'));
const email = env('KUNCI_EMAIL');
const password = env('KUNCI_PASSWORD');
const shots = env('KUNCI_SCREENSHOTS');

// The device pages follow the browser's language (there is no authorization request to carry
// ui_locales), so each locale runs in a context that asks for it.
const browserLanguage = { en: 'en-US', id: 'id-ID' };

async function connect(browser, locale, { url, code }) {
  const context = await browser.newContext({
    locale: browserLanguage[locale] ?? 'en-US',
    viewport: { width: 1024, height: 768 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = watchProblems(page);
  try {
    await page.goto(url);
    await page.waitForSelector('#device-form');
    const entry = await pageFacts(page);
    await page.screenshot({ path: join(shots, `device-entry-${locale}.png`), fullPage: true });
    // Typed as a person would: lower case, without the dash.
    await page.fill('#user_code', code.replace('-', '').toLowerCase());
    await page.click('#device-form button[type="submit"]');

    await page.waitForSelector('#login-form');
    await page.fill('#login-form input[name="email"]', email);
    await page.fill('#login-form input[name="password"]', password);
    await page.click('#login-form button[type="submit"]');

    await page.waitForSelector('#device-confirm-form');
    const confirm = await pageFacts(page);
    await page.screenshot({ path: join(shots, `device-confirm-${locale}.png`), fullPage: true });
    await page.click('#approve');
    await page.waitForLoadState('load');
    const done = await pageFacts(page);
    await page.screenshot({ path: join(shots, `device-done-${locale}.png`), fullPage: true });
    return { locale, entry, confirm, done, problems };
  } catch (err) {
    await page.screenshot({ path: join(shots, `device-failure-${locale}.png`), fullPage: true }).catch(() => {});
    err.message = `${locale}: ${err.message} (at ${page.url()}; problems: ${JSON.stringify(problems)})`;
    throw err;
  } finally {
    await context.close();
  }
}

await runPerLocale(codes, connect);
