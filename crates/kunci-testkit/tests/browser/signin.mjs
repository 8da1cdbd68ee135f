// Signs in through Kunci's real pages in headless Chromium, once per locale, and prints one JSON
// line per locale with what the Rust side asserts (crates/kunci-testkit/tests/it/browser_pages.rs).
//
// Environment (all set by the Rust test):
//   KUNCI_AUTHZ_URLS      JSON object: locale -> authorization URL (with ui_locales) to open
//   KUNCI_REDIRECT_URI    the client's redirect URI; the navigation there is captured, not made
//   KUNCI_EMAIL, KUNCI_PASSWORD   the account to sign in with
//   KUNCI_SCREENSHOTS     directory for login-<locale>.png and consent-<locale>.png
//   CHROMIUM_PATH         the browser binary (default /usr/bin/chromium)
//
// Each locale runs in a fresh browser context (no cookies) whose Accept-Language is a different
// language, so the page language can only come from ui_locales.

import { join } from 'node:path';
import { env, pageFacts, runPerLocale, watchProblems } from './lib.mjs';

const authzUrls = JSON.parse(env('KUNCI_AUTHZ_URLS'));
const redirectUri = env('KUNCI_REDIRECT_URI');
const email = env('KUNCI_EMAIL');
const password = env('KUNCI_PASSWORD');
const shots = env('KUNCI_SCREENSHOTS');

// Accept-Language deliberately different from the locale asked for with ui_locales.
const otherLanguage = { en: 'id-ID', id: 'en-US' };

async function signIn(browser, locale, url) {
  const context = await browser.newContext({
    locale: otherLanguage[locale] ?? 'en-US',
    viewport: { width: 1024, height: 768 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);

  // Anything the pages get wrong that a person would not see in a screenshot.
  const problems = watchProblems(page, (url) => url.startsWith(redirectUri));

  // The redirect URI points at a closed port: answer it here and keep the URL.
  await page.route(
    (u) => u.href.startsWith(redirectUri),
    (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' }),
  );

  try {
    await page.goto(url);
    await page.waitForSelector('#login-form');
    const login = await pageFacts(page);
    await page.screenshot({ path: join(shots, `login-${locale}.png`), fullPage: true });

    await page.fill('#login-form input[name="email"]', email);
    await page.fill('#login-form input[name="password"]', password);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#consent-form');
    const consent = await pageFacts(page);
    await page.screenshot({ path: join(shots, `consent-${locale}.png`), fullPage: true });

    // Not remembered, so the next locale is asked again.
    await page.uncheck('#remember');
    const [redirect] = await Promise.all([
      page.waitForRequest((req) => req.url().startsWith(redirectUri)),
      page.click('#allow'),
    ]);
    return { locale, redirect: redirect.url(), login, consent, problems };
  } catch (err) {
    await page.screenshot({ path: join(shots, `failure-${locale}.png`), fullPage: true }).catch(() => {});
    err.message = `${locale}: ${err.message} (at ${page.url()}; problems: ${JSON.stringify(problems)})`;
    throw err;
  } finally {
    await context.close();
  }
}

await runPerLocale(authzUrls, signIn);
