//! OutboxMailer: one well-formed, private `.eml` file per message; only its path is logged.

use std::path::PathBuf;
use std::sync::Arc;

use kunci_authn::{AuthnError, Mail, Mailer, OutboxMailer};
use kunci_core::ManualClock;

use crate::support::{eml, logs::Logs, sample_mail};

/// 2023-11-14 22:13:20 UTC, a Tuesday.
const NOW: i64 = 1_700_000_000;

fn outbox(dir: impl Into<PathBuf>) -> OutboxMailer {
    OutboxMailer::new(
        dir,
        "Kunci <noreply@kunci.test>",
        Arc::new(ManualClock::new(NOW)),
    )
    .unwrap()
}

fn files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn a_message_becomes_one_well_formed_eml_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = outbox(tmp.path());
    mailer.send(&sample_mail(false)).await.unwrap();

    let written = files(tmp.path());
    assert_eq!(written.len(), 1, "{written:?}");
    let name = written[0].file_name().unwrap().to_str().unwrap();
    let (time, rest) = name.split_once('-').unwrap();
    assert_eq!(time, NOW.to_string());
    let random = rest.strip_suffix(".eml").expect("ends in .eml");
    assert_eq!(random.len(), 16);
    assert!(
        random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );

    let msg = eml::parse(&std::fs::read(&written[0]).unwrap());
    assert_eq!(msg.header("From"), "Kunci <noreply@kunci.test>");
    assert_eq!(msg.header("To"), "alice@example.com");
    assert_eq!(msg.header("Subject"), "Verify your address");
    assert_eq!(msg.header("Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
    assert!(msg.header("Message-ID").starts_with('<'));
    assert!(msg.header("Content-Type").starts_with("text/plain"));
    assert_eq!(
        msg.body.trim_end(),
        "Open https://id.kunci.test/verify?token=tok3n-abc to continue."
    );
}

#[tokio::test]
async fn an_html_body_is_sent_as_the_alternative_of_the_text() {
    let tmp = tempfile::tempdir().unwrap();
    outbox(tmp.path()).send(&sample_mail(true)).await.unwrap();
    let msg = eml::parse(&std::fs::read(&files(tmp.path())[0]).unwrap());
    assert_eq!(msg.header("MIME-Version"), "1.0");
    let content_type = msg.header("Content-Type");
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let text_at = msg
        .body
        .find("Content-Type: text/plain")
        .expect("text part");
    let html_at = msg.body.find("Content-Type: text/html").expect("html part");
    assert!(text_at < html_at, "the preferred (HTML) part comes last");
    assert!(
        msg.body
            .contains("Open https://id.kunci.test/verify?token=tok3n-abc to continue.")
    );
    assert!(
        msg.body
            .contains("<a href=\"https://id.kunci.test/verify?token=tok3n-abc\">")
    );
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_private_to_the_owner_and_a_missing_directory_is_created() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("var").join("outbox");
    let mailer = outbox(&dir);
    assert_eq!(mailer.dir(), dir);
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    mailer.send(&sample_mail(false)).await.unwrap();
    mailer.send(&sample_mail(false)).await.unwrap();
    let written = files(&dir);
    assert_eq!(
        written.len(),
        2,
        "two sends in one second get distinct names, no temp left"
    );
    for f in written {
        assert_eq!(f.extension().unwrap(), "eml");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test]
async fn only_the_file_path_is_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = outbox(tmp.path());
    let (logs, _guard) = Logs::capture();
    mailer.send(&sample_mail(true)).await.unwrap();
    let lines = logs.lines();
    let path = files(tmp.path())[0].display().to_string();
    assert!(
        lines.iter().any(|l| l.contains(&path)),
        "path not logged: {lines:?}"
    );
    for line in &lines {
        for private in ["alice", "example.com", "Verify your", "tok3n", "Continue"] {
            assert!(
                !line.contains(private),
                "{private:?} leaked into the log: {line}"
            );
        }
    }
}

#[tokio::test]
async fn a_bad_recipient_or_a_subject_with_a_line_break_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = outbox(tmp.path());
    let bad_to = Mail {
        to: "not an address".into(),
        ..sample_mail(false)
    };
    let err = mailer.send(&bad_to).await.unwrap_err();
    assert!(matches!(err, AuthnError::MailMessage(_)), "{err:?}");
    assert!(!err.to_string().contains("not an address"));
    let injected = Mail {
        subject: "Hello\r\nBcc: mallory@evil.test".into(),
        ..sample_mail(false)
    };
    let err = mailer.send(&injected).await.unwrap_err();
    assert!(matches!(err, AuthnError::MailMessage(_)), "{err:?}");
    assert!(files(tmp.path()).is_empty());
}

#[test]
fn an_invalid_sender_is_a_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = OutboxMailer::new(tmp.path(), "nobody", Arc::new(ManualClock::new(NOW))).unwrap_err();
    assert!(matches!(err, AuthnError::MailConfig(_)), "{err:?}");
}

#[test]
fn debug_of_a_mail_shows_no_recipient_subject_or_body() {
    let shown = format!("{:?}", sample_mail(true));
    for private in ["alice", "Verify", "tok3n"] {
        assert!(!shown.contains(private), "{shown}");
    }
}
