//! The hosted pages in a real browser: headless Chromium (driven by `tests/browser/signin.mjs`
//! through playwright-core) signs in and consents once per locale, and the redirect it lands on
//! must carry a code that the token endpoint accepts. Screenshots of every page are kept under
//! `<target>/screenshots/` for people to look at.
//!
//! Needs a chromium binary, `node`, and `npm ci --prefix crates/kunci-testkit/tests/browser`;
//! without them the test prints one `skipped:` line (and fails under `KUNCI_TEST_REQUIRE_ALL=1`).

use crate::support::{Authz, PASSWORD, code_from, exchange, server_with_user, string};
use kunci_testkit::require_all;
use kunci_testkit::server::WEB;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the browser may take for all locales together.
pub(crate) const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The locales the pages are checked in.
const LOCALES: [&str; 2] = ["en", "id"];

/// One line of `signin.mjs` output.
#[derive(Debug, Deserialize)]
struct Run {
    locale: String,
    redirect: String,
    login: PageFacts,
    consent: PageFacts,
    problems: Vec<String>,
}

/// What `pageFacts` in the browser scripts reports of a page.
#[derive(Debug, Deserialize)]
pub(crate) struct PageFacts {
    pub lang: String,
    pub title: String,
    pub h1: Option<String>,
    pub text: String,
}

pub(crate) fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `<target>/screenshots`, found from this test binary (`<target>/<profile>/deps/it-…`).
pub(crate) fn screenshot_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots")
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn find_chromium() -> Option<PathBuf> {
    let default = PathBuf::from("/usr/bin/chromium");
    if default.is_file() {
        Some(default)
    } else {
        on_path("chromium")
    }
}

/// The chromium binary, or `None` after the one `skipped:` line (a panic under REQUIRE_ALL).
pub(crate) fn prerequisites(what: &str) -> Option<PathBuf> {
    let chromium = find_chromium();
    let mut missing = Vec::new();
    if chromium.is_none() {
        missing.push("no chromium binary");
    }
    if on_path("node").is_none() {
        missing.push("no node on PATH");
    }
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        missing.push("playwright-core not installed");
    }
    if missing.is_empty() {
        return chromium;
    }
    let msg = format!(
        "skipped: {what} ({}; run .ci/run or: apt-get install chromium && npm ci --prefix crates/kunci-testkit/tests/browser)",
        missing.join(", ")
    );
    assert!(!require_all(), "{msg}, but KUNCI_TEST_REQUIRE_ALL=1");
    println!("{msg}");
    None
}

/// Runs `tests/browser/<script>` under node with `env` (plus `KUNCI_SCREENSHOTS` and
/// `CHROMIUM_PATH`), within [`BROWSER_TIMEOUT`]; returns its JSON lines, one per locale, after
/// checking it succeeded and printed one line per locale.
pub(crate) async fn run_browser_script<T: serde::de::DeserializeOwned>(
    script: &str,
    chromium: &Path,
    shots: &Path,
    env: &[(&str, String)],
    expected: usize,
) -> Vec<T> {
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(script)
        .current_dir(browser_dir())
        .env("KUNCI_SCREENSHOTS", shots)
        .env("CHROMIUM_PATH", chromium)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = tokio::time::timeout(BROWSER_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("the browser did not finish within {BROWSER_TIMEOUT:?}"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}); screenshots in {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status,
        shots.display()
    );
    let runs: Vec<T> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect();
    assert_eq!(runs.len(), expected, "one result per locale:\n{stdout}");
    runs
}

/// Asserts a page is in `locale` (`<html lang>`), headed and titled by its `title_key`
/// string, with no unfilled `{placeholder}` left in its text.
pub(crate) fn assert_page(locale: &str, page: &str, facts: &PageFacts, title_key: &str) {
    let h1 = string(locale, title_key);
    assert_eq!(facts.lang, locale, "{page} page <html lang>");
    assert_eq!(
        facts.h1.as_ref(),
        Some(&h1),
        "{page} page ({locale}) heading"
    );
    assert!(
        facts.title.starts_with(&h1),
        "{page} page ({locale}) title {:?}",
        facts.title
    );
    assert!(
        !facts.text.contains('{') && !facts.text.contains('}'),
        "{page} page ({locale}) shows an unfilled placeholder:\n{}",
        facts.text
    );
}

/// Asserts `path` is a PNG worth looking at (a blank page compresses to far less).
pub(crate) fn assert_screenshot(path: &Path) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("screenshot {}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        bytes.len() > 5 * 1024,
        "{} is only {} bytes: is the page blank?",
        path.display(),
        bytes.len()
    );
}

#[tokio::test]
async fn chromium_signs_in_through_the_pages_in_english_and_indonesian() {
    let Some(chromium) = prerequisites("browser sign-in test") else {
        return;
    };
    let (server, email) = server_with_user().await;
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    for locale in LOCALES {
        for page in ["login", "consent", "failure"] {
            let _ = std::fs::remove_file(shots.join(format!("{page}-{locale}.png")));
        }
    }

    let requests: BTreeMap<&str, Authz> = LOCALES
        .iter()
        .map(|&l| (l, Authz::new(&WEB).set("ui_locales", l)))
        .collect();
    let urls: BTreeMap<&str, String> = requests
        .iter()
        .map(|(tag, authz)| (*tag, authz.url(&server)))
        .collect();

    let env = [
        ("KUNCI_AUTHZ_URLS", serde_json::to_string(&urls).unwrap()),
        ("KUNCI_REDIRECT_URI", WEB.redirect_uri.to_owned()),
        ("KUNCI_EMAIL", email.clone()),
        ("KUNCI_PASSWORD", PASSWORD.to_owned()),
    ];
    let runs: Vec<Run> =
        run_browser_script("signin.mjs", &chromium, &shots, &env, LOCALES.len()).await;

    for (locale, run) in LOCALES.into_iter().zip(&runs) {
        assert_eq!(run.locale, locale);
        assert!(
            run.problems.is_empty(),
            "{locale}: the pages had problems: {:#?}",
            run.problems
        );
        assert_page(locale, "login", &run.login, "login_title");
        assert_page(locale, "consent", &run.consent, "consent_title");
        assert!(
            run.consent.text.contains(&email),
            "consent page names the account"
        );
        assert!(
            run.consent.text.contains("Test app web"),
            "consent page names the client"
        );

        let authz = &requests[locale];
        let redirect = url::Url::parse(&run.redirect).expect("redirect URL");
        assert!(
            run.redirect.starts_with(WEB.redirect_uri),
            "{locale}: landed on {redirect}"
        );
        let code = code_from(&server, authz, &redirect);
        // The code is real: the token endpoint takes it with that request's PKCE verifier.
        let (status, body) = exchange(&server, authz, &code).await;
        assert_eq!(status, 200, "{locale}: token response {body}");
        assert!(
            body["id_token"].is_string(),
            "{locale}: token response {body}"
        );

        for page in ["login", "consent"] {
            assert_screenshot(&shots.join(format!("{page}-{locale}.png")));
        }
    }
}
