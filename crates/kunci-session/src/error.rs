//! Errors of setting a session store up (bad configuration, backend unreachable at start-up).
//!
//! Errors of individual operations are [`kunci_core::PortError`]s; these are for the operator,
//! so each message says what is wrong and what to check. A URL in a message is always passed
//! through the redaction in `redis::target`, so a password never reaches a log or a terminal.

/// Why a session store could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The Redis URL could not be understood. `url` is redacted.
    #[error(
        "invalid Redis URL `{url}`: {reason}. Expected redis://, rediss://, redis+cluster://, \
         rediss+cluster://, redis+sentinel:// or rediss+sentinel:// (see kunci_session::RedisStore)"
    )]
    InvalidUrl { url: String, reason: String },

    /// A setting other than the URL is unusable.
    #[error("invalid session store setting `{setting}`: {reason}")]
    InvalidConfig {
        setting: &'static str,
        reason: String,
    },

    /// Redis did not answer at start-up. `target` is redacted.
    #[error(
        "cannot reach Redis at `{target}`: {reason}. Check that Redis is running and reachable \
         from this host, and that the URL's host, port, password and TLS scheme are right"
    )]
    Connect { target: String, reason: String },

    /// Redis answered but lacks something Kunci needs. `target` is redacted.
    #[error("Redis at `{target}` cannot be used: {reason}")]
    Unsupported { target: String, reason: String },
}
