//! The one error type of this crate.
//!
//! Messages are safe to log: they never carry a password, a hash, a recipient address, a
//! message body or an SMTP server's reply text (which often echoes the recipient). That is why
//! SMTP failures are reduced to a [`SmtpFailure`] class and a reply code instead of wrapping
//! lettre's error.

use crate::passwords::PasswordRejection;

#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    /// The configured Argon2 cost parameters are out of range.
    #[error("invalid Argon2 parameters: {0}")]
    InvalidHashParams(argon2::Error),

    /// A stored password hash is not a PHC string this crate can read.
    #[error("stored password hash is not a valid Argon2 PHC string")]
    MalformedHash,

    /// Argon2 itself failed (including the OS RNG failing to produce a salt).
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),

    /// The password was refused before hashing (it is longer than the policy allows).
    #[error("password rejected: {0}")]
    PasswordRejected(PasswordRejection),

    /// The blocking task doing the hashing panicked or the runtime is shutting down.
    #[error("the password hashing worker stopped")]
    HasherUnavailable,

    /// The mail configuration (SMTP URL, sender address, outbox directory) is unusable.
    #[error("mail configuration: {0}")]
    MailConfig(String),

    /// The message could not be built (bad recipient address, line break in the subject, …).
    #[error("mail message: {0}")]
    MailMessage(&'static str),

    /// The SMTP relay did not accept the message.
    #[error("SMTP delivery failed: {failure}{}", code.as_deref().map(|c| format!(" (reply {c})")).unwrap_or_default())]
    Smtp {
        failure: SmtpFailure,
        /// The three-digit SMTP reply code, when the server answered.
        code: Option<String>,
    },

    /// Writing a message into the outbox directory failed.
    #[error("writing to the mail outbox failed: {0}")]
    Outbox(#[source] std::io::Error),
}

/// Why an SMTP delivery failed, coarse enough to decide whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpFailure {
    /// A 4xx reply: try again later.
    Transient,
    /// A 5xx reply: retrying will not help.
    Permanent,
    /// The relay did not answer in time.
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// Connecting, or the conversation itself, failed.
    Connection,
}

impl std::fmt::Display for SmtpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Transient => "transient rejection",
            Self::Permanent => "permanent rejection",
            Self::Timeout => "timeout",
            Self::Tls => "TLS failure",
            Self::Connection => "connection failure",
        })
    }
}

impl SmtpFailure {
    /// Whether sending the same message again later may succeed.
    pub fn is_retryable(self) -> bool {
        !matches!(self, Self::Permanent)
    }
}
