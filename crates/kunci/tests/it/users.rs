//! `kunci user add` and `kunci user list`: the password comes from standard input and is never
//! printed; duplicates, weak passwords and malformed emails are refused with a clear message.

use crate::support::{MINIMAL_CONFIG, Run, Workdir};

const PASSWORD: &str = "violet tractor umbrella 42";

/// A workdir with the minimal configuration, and its path for `--config`.
fn setup() -> (Workdir, String) {
    let dir = Workdir::new();
    let file = dir.config(MINIMAL_CONFIG);
    (dir, file.to_str().expect("UTF-8 path").to_owned())
}

fn add(dir: &Workdir, config: &str, email: &str, password: &str) -> Run {
    dir.run(
        &[
            "--config",
            config,
            "user",
            "add",
            "--email",
            email,
            "--name",
            "Ayu Lestari",
        ],
        Some(&format!("{password}\n")),
    )
}

fn list(dir: &Workdir, config: &str) -> String {
    let run = dir.run(&["--config", config, "user", "list"], None);
    run.assert_success();
    run.stdout
}

#[test]
fn an_added_user_is_listed_and_the_password_is_never_printed() {
    let (dir, config) = setup();
    let run = add(&dir, &config, "Ayu@Example.com", PASSWORD);
    run.assert_success().assert_never_shows(PASSWORD);
    assert!(
        run.stdout.contains("created user") && run.stdout.contains("ayu@example.com"),
        "{}",
        run.stdout
    );

    let listed = list(&dir, &config);
    let line = listed
        .lines()
        .find(|l| l.contains("ayu@example.com"))
        .unwrap_or_else(|| panic!("the new user is not listed:\n{listed}"));
    assert!(
        line.contains("verified") && line.contains("Ayu Lestari"),
        "{line}"
    );
    assert!(listed.contains("(1 accounts)"), "{listed}");
    assert!(
        !listed.contains(PASSWORD) && !listed.contains("argon2"),
        "{listed}"
    );
}

#[test]
fn a_second_account_with_the_same_email_is_refused() {
    let (dir, config) = setup();
    add(&dir, &config, "ayu@example.com", PASSWORD).assert_success();
    add(
        &dir,
        &config,
        "AYU@example.com",
        "another fine passphrase 7",
    )
    .assert_failure_mentions(&["already exists"])
    .assert_never_shows("another fine passphrase");
    assert!(list(&dir, &config).contains("(1 accounts)"));
}

#[test]
fn a_weak_password_is_refused() {
    let (dir, config) = setup();
    for (weak, why) in [
        ("zq7!x", "at least 8 characters"),
        ("iloveyou", "common"),
        ("Kunci123", "common"),
    ] {
        add(&dir, &config, "ayu@example.com", weak)
            .assert_failure_mentions(&["password refused", why])
            .assert_never_shows(weak);
    }
    add(&dir, &config, "ayu@example.com", "AYU@example.com")
        .assert_failure_mentions(&["password refused", "email"]);
    assert!(list(&dir, &config).contains("(0 accounts)"));
}

#[test]
fn an_invalid_email_is_refused() {
    let (dir, config) = setup();
    for bad in ["not-an-email", "two@@example.com", ""] {
        add(&dir, &config, bad, PASSWORD)
            .assert_failure_mentions(&["--email", "not a valid email"])
            .assert_never_shows(PASSWORD);
    }
    assert!(list(&dir, &config).contains("(0 accounts)"));
}

#[test]
fn an_unverified_user_is_listed_as_such() {
    let (dir, config) = setup();
    dir.run(
        &[
            "--config",
            &config,
            "user",
            "add",
            "--email",
            "budi@example.com",
            "--name",
            "Budi",
            "--unverified",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .assert_success();
    let listed = list(&dir, &config);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("budi@example.com") && l.contains("\tunverified\t")),
        "{listed}"
    );
}
