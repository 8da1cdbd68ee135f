//! SmtpMailer against a real TCP peer (a minimal SMTP sink on 127.0.0.1), plus its URL rules.

use std::sync::Arc;

use kunci_authn::{AuthnError, Mailer, SmtpFailure, SmtpMailer};
use kunci_core::ManualClock;

use crate::support::logs::Logs;
use crate::support::smtp_sink::{Rcpt, Sink};
use crate::support::{eml, sample_mail};

const FROM: &str = "Kunci <noreply@kunci.test>";

fn mailer(url: &str) -> Result<SmtpMailer, AuthnError> {
    SmtpMailer::new(url, FROM, Arc::new(ManualClock::new(1_700_000_000)))
}

#[tokio::test]
async fn a_message_reaches_the_relay_with_envelope_headers_and_body() {
    let mut sink = Sink::start(Rcpt::Accept).await;
    let mailer = mailer(&format!("smtp://127.0.0.1:{}", sink.port)).unwrap();
    let (logs, _capturing) = Logs::capture();
    mailer.send(&sample_mail(false)).await.unwrap();
    let lines = logs.lines();
    assert!(lines.iter().any(|l| l.contains("SMTP relay")), "{lines:?}");
    for line in &lines {
        assert!(!line.contains("alice") && !line.contains("tok3n"), "{line}");
    }

    let (commands, data) = sink.until_message().await;
    assert_eq!(
        commands,
        [
            "MAIL FROM:<noreply@kunci.test>",
            "RCPT TO:<alice@example.com>"
        ]
    );
    let msg = eml::parse(data.as_bytes());
    assert_eq!(msg.header("From"), "Kunci <noreply@kunci.test>");
    assert_eq!(msg.header("To"), "alice@example.com");
    assert_eq!(msg.header("Subject"), "Verify your address");
    assert_eq!(msg.header("Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
    // lettre ends the message with a blank line before the terminating dot.
    assert_eq!(
        msg.body.trim_end(),
        "Open https://id.kunci.test/verify?token=tok3n-abc to continue."
    );
}

#[tokio::test]
async fn a_refused_recipient_is_a_permanent_failure_that_does_not_repeat_the_address() {
    let sink = Sink::start(Rcpt::RejectEchoing).await;
    let mailer = mailer(&format!("smtp://127.0.0.1:{}", sink.port)).unwrap();
    let err = mailer.send(&sample_mail(false)).await.unwrap_err();
    match &err {
        AuthnError::Smtp { failure, code } => {
            assert_eq!(*failure, SmtpFailure::Permanent);
            assert!(!failure.is_retryable());
            assert_eq!(code.as_deref(), Some("550"));
        }
        other => panic!("expected an SMTP failure, got {other:?}"),
    }
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("alice"), "{shown}");
    }
}

#[tokio::test]
async fn an_unreachable_relay_is_a_retryable_connection_failure() {
    // Take a free port on 127.0.0.1, then close it so nothing listens there.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let err = mailer(&format!("smtp://127.0.0.1:{port}"))
        .unwrap()
        .send(&sample_mail(false))
        .await
        .unwrap_err();
    match err {
        AuthnError::Smtp { failure, .. } => assert!(failure.is_retryable(), "{failure:?}"),
        other => panic!("expected an SMTP failure, got {other:?}"),
    }
}

#[tokio::test]
async fn the_documented_url_forms_are_accepted() {
    for url in [
        "smtp://127.0.0.1:2525",
        "smtp://mail.example.com:587?tls=starttls",
        "smtp://user:pw@mail.example.com?tls=starttls",
        "smtp://mail.example.com?tls=opportunistic",
        "smtps://user:s3cr3t@mail.example.com:465",
        "smtp://user:pw@localhost:2525",
    ] {
        let m = mailer(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let shown = format!("{m:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("pw@"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn debug_names_the_relay_and_its_security() {
    let shown = format!(
        "{:?}",
        mailer("smtps://user:s3cr3t@mail.example.com").unwrap()
    );
    assert!(shown.contains("mail.example.com:465 (Implicit)"), "{shown}");
    let shown = format!(
        "{:?}",
        mailer("smtp://mail.example.com?tls=starttls").unwrap()
    );
    assert!(shown.contains("mail.example.com:587 (StartTls)"), "{shown}");
}

#[tokio::test]
async fn unusable_urls_are_refused_without_echoing_the_password() {
    for url in [
        "ftp://user:s3cr3t@mail.example.com",
        "smtp://user:s3cr3t@mail.example.com?tls=bogus",
        "smtps://user:s3cr3t@mail.example.com?tls=starttls",
        "smtp://user:s3cr3t@mail.example.com?verify=no",
        "smtp://user:s3cr3t@mail.example.com",
        "smtp://user:s3cr3t@mail.example.com?tls=opportunistic",
        "not a url s3cr3t",
    ] {
        let err = mailer(url).expect_err(url);
        assert!(matches!(err, AuthnError::MailConfig(_)), "{url}: {err:?}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }
}

#[tokio::test]
async fn an_invalid_sender_is_refused() {
    let err = SmtpMailer::new(
        "smtp://127.0.0.1:25",
        "nobody",
        Arc::new(ManualClock::new(0)),
    )
    .unwrap_err();
    assert!(matches!(err, AuthnError::MailConfig(_)), "{err:?}");
}

#[test]
fn outside_a_runtime_creation_is_refused_and_a_late_drop_is_harmless() {
    let err = mailer("smtp://127.0.0.1:25").unwrap_err();
    assert!(matches!(err, AuthnError::MailConfig(_)), "{err:?}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mailer = runtime
        .block_on(async { mailer("smtp://127.0.0.1:25") })
        .unwrap();
    drop(runtime);
    drop(mailer); // would panic inside lettre's pool without a runtime to drop into
}
