//! `kunci migrate`: applies what is pending, and nothing the second time.

use crate::support::{MINIMAL_CONFIG, Workdir, mode};

fn applied(stdout: &str) -> u32 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("migrations applied: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no \"migrations applied: N\" line in:\n{stdout}"))
}

#[test]
fn migrating_twice_applies_nothing_the_second_time() {
    let dir = Workdir::new();
    let config = dir.config(MINIMAL_CONFIG);
    let config = config.to_str().unwrap();

    let first = dir.run(&["--config", config, "migrate"], None);
    first.assert_success();
    assert!(applied(&first.stdout) > 0, "{first:#?}");
    assert!(
        dir.path().join("data/kunci.db").is_file(),
        "the embedded database is created under data_dir"
    );

    let second = dir.run(&["--config", config, "migrate"], None);
    second.assert_success();
    assert_eq!(applied(&second.stdout), 0, "{second:#?}");
}

#[test]
fn log_lines_are_plain_text_when_not_on_a_terminal() {
    let dir = Workdir::new();
    let config = dir.config(MINIMAL_CONFIG);
    let run = dir.run(&["--config", config.to_str().unwrap(), "migrate"], None);
    run.assert_success();
    assert!(!run.stderr.is_empty(), "migrate logs what it does");
    assert!(
        !run.stderr.contains('\u{1b}'),
        "terminal colour codes in piped output:\n{:?}",
        run.stderr
    );
}

#[test]
fn migrating_before_the_first_serve_keeps_the_data_directory_private() {
    let dir = Workdir::new();
    let config = dir.config(MINIMAL_CONFIG);
    dir.run(&["--config", config.to_str().unwrap(), "migrate"], None)
        .assert_success();
    assert_eq!(
        mode(&dir.path().join("data")) & 0o777,
        0o700,
        "data_dir holds password hashes: owner-only even when migrate creates it"
    );
}
