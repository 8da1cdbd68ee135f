//! The device pages (RFC 8628) in a real browser: headless Chromium (driven by
//! `tests/browser/device.mjs`) types the user code a TV was given, signs in, approves, and reads
//! the done page, once per locale; then the TV's poll must get tokens. Screenshots go to
//! `<target>/screenshots/device-*.png`. Prerequisites and skipping as in `browser_pages.rs`.

use crate::browser_pages::{
    PageFacts, assert_page, assert_screenshot, prerequisites, run_browser_script, screenshot_dir,
};
use crate::grants::{client_post, str_of};
use crate::support::{PASSWORD, string, userinfo};
use kunci_testkit::server::client_config;
use kunci_testkit::{Backends, TestClient, TestServer};
use serde::Deserialize;
use std::collections::BTreeMap;

const LOCALES: [&str; 2] = ["en", "id"];
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const EMAIL: &str = "dewi@example.com";

/// A smart TV app: public, device grant only.
const TV: TestClient = TestClient {
    id: "tv",
    secret: None,
    redirect_uri: "",
};

#[derive(Debug, Deserialize)]
struct Run {
    locale: String,
    entry: PageFacts,
    confirm: PageFacts,
    done: PageFacts,
    problems: Vec<String>,
}

#[tokio::test]
async fn chromium_connects_a_device_through_the_pages_in_english_and_indonesian() {
    let Some(chromium) = prerequisites("browser device test") else {
        return;
    };
    let server = TestServer::start_with(Backends::current(), |c| {
        let mut tv = client_config(&TV, "none", "ES256", false);
        tv.redirect_uris = Vec::new();
        tv.post_logout_redirect_uris = Vec::new();
        tv.grant_types = vec![DEVICE_GRANT.into()];
        c.clients.push(tv);
    })
    .await;
    server.add_user(EMAIL, "Dewi Sartika", PASSWORD, true).await;
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("screenshot directory");

    // One device authorization per locale: the TV's codes.
    let mut device_codes = BTreeMap::new();
    let mut targets = BTreeMap::new();
    for locale in LOCALES {
        for page in ["entry", "confirm", "done", "failure"] {
            let _ = std::fs::remove_file(shots.join(format!("device-{page}-{locale}.png")));
        }
        let started = client_post(
            &server,
            "/device_authorization",
            Some(&TV),
            &[("scope", "openid email")],
        )
        .await;
        assert_eq!(started.status, 200, "{}", started.body);
        device_codes.insert(locale, str_of(&started.body, "device_code").to_owned());
        targets.insert(
            locale,
            serde_json::json!({
                "url": str_of(&started.body, "verification_uri"),
                "code": str_of(&started.body, "user_code"),
            }),
        );
    }

    let env = [
        (
            "KUNCI_DEVICE_CODES",
            serde_json::to_string(&targets).unwrap(),
        ),
        ("KUNCI_EMAIL", EMAIL.to_owned()),
        ("KUNCI_PASSWORD", PASSWORD.to_owned()),
    ];
    let runs: Vec<Run> =
        run_browser_script("device.mjs", &chromium, &shots, &env, LOCALES.len()).await;

    for (locale, run) in LOCALES.into_iter().zip(&runs) {
        assert_eq!(run.locale, locale);
        assert!(run.problems.is_empty(), "{locale}: {:#?}", run.problems);
        for (page, facts, title_key) in [
            ("entry", &run.entry, "device_title"),
            ("confirm", &run.confirm, "device_confirm_title"),
            ("done", &run.done, "device_done_title"),
        ] {
            assert_page(locale, page, facts, title_key);
            assert_screenshot(&shots.join(format!("device-{page}-{locale}.png")));
        }
        assert!(run.confirm.text.contains("Test app tv"), "names the app");
        assert!(run.confirm.text.contains(EMAIL), "names the account");
        assert!(
            run.confirm
                .text
                .contains(&string(locale, "device_phishing_warning")),
            "RFC 8628 §5.4 warning"
        );

        // The TV's next poll gets the tokens the person approved in the browser.
        let tokens = client_post(
            &server,
            "/token",
            Some(&TV),
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", &device_codes[locale]),
            ],
        )
        .await;
        assert_eq!(tokens.status, 200, "{locale}: {}", tokens.body);
        let info = userinfo(&server, str_of(&tokens.body, "access_token")).await;
        assert_eq!(info.json()["email"], EMAIL, "{}", info.body);
    }
}
