//! Test helpers: an RFC 5322 reader, a tracing capture and a minimal SMTP sink.

pub mod eml;
pub mod logs;
pub mod smtp_sink;

use kunci_authn::Mail;

/// A mail whose every part is recognisable, so tests can look for it in files and logs.
pub fn sample_mail(html: bool) -> Mail {
    Mail {
        to: "alice@example.com".into(),
        subject: "Verify your address".into(),
        text_body: "Open https://id.kunci.test/verify?token=tok3n-abc to continue.".into(),
        html_body: html.then(|| {
            "<p><a href=\"https://id.kunci.test/verify?token=tok3n-abc\">Continue</a></p>".into()
        }),
    }
}
