//! Outgoing mail: the [`Mailer`] port and its two implementations.
//!
//! - [`SmtpMailer`] hands messages to an SMTP relay (plain, STARTTLS or implicit TLS).
//! - [`OutboxMailer`] writes each message as an `.eml` file, for development and tests.
//!
//! Mails carry personal data and one-time links, so neither implementation logs a recipient,
//! a subject or a body, and [`Mail`]'s `Debug` shows none of them.

mod message;
mod outbox;
mod smtp;

use std::fmt;

use async_trait::async_trait;

use crate::AuthnError;

pub use outbox::OutboxMailer;
pub use smtp::SmtpMailer;

/// One message to one recipient. The sender is a property of the [`Mailer`].
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// `alice@example.com` or `Alice <alice@example.com>`.
    pub to: String,
    /// One line; a line break is refused when the message is built.
    pub subject: String,
    pub text_body: String,
    /// When present, sent as the HTML alternative of `text_body`.
    pub html_body: Option<String>,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("to", &"<redacted>")
            .field("subject", &"<redacted>")
            .field(
                "text_body",
                &format_args!("<{} bytes>", self.text_body.len()),
            )
            .field(
                "html_body",
                &self
                    .html_body
                    .as_ref()
                    .map(|h| format!("<{} bytes>", h.len())),
            )
            .finish()
    }
}

/// Somewhere mail can be sent.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`, or says why it could not be sent. The error never contains the
    /// recipient or the content.
    async fn send(&self, mail: &Mail) -> Result<(), AuthnError>;
}
