//! [`SmtpMailer`]: delivery through an SMTP relay with lettre's pooled async transport.
//!
//! The relay is configured by one URL:
//!
//! | URL | transport | default port |
//! |---|---|---|
//! | `smtp://host:port` | plain text | 25 |
//! | `smtp://host:port?tls=starttls` (or `tls=required`) | STARTTLS, required | 587 |
//! | `smtp://host:port?tls=opportunistic` | STARTTLS when offered | 587 |
//! | `smtps://user:pass@host:465` | implicit TLS | 465 |
//!
//! Credentials are refused on a connection that may stay unencrypted (plain or
//! opportunistic) unless the relay is on the loopback interface, since lettre would send them
//! in clear text. TLS uses rustls with the ring provider and the webpki roots.
//! The URL holds a password, so it is never logged, echoed in errors or shown by `Debug`.
//!
//! lettre's connection pool runs a background task, so the mailer must be built inside a
//! Tokio runtime; it remembers that runtime and drops the pool inside it, so dropping the
//! mailer late (after the runtime has stopped, or from a plain thread) cannot panic.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kunci_core::Clock;
use lettre::message::Mailbox;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::runtime::Handle;
use url::Url;

use super::{Mail, Mailer, message};
use crate::{AuthnError, SmtpFailure};

/// How long to wait on the relay before giving up on a command.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends mail through an SMTP relay.
pub struct SmtpMailer {
    /// Always `Some` until `drop`, which takes it to drop it inside `runtime`.
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    runtime: Handle,
    from: Mailbox,
    clock: Arc<dyn Clock>,
    /// `host:port (mode)`, for `Debug`; no credentials.
    endpoint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    Plain,
    Opportunistic,
    StartTls,
    Implicit,
}

impl SmtpMailer {
    /// A mailer for the relay at `url` (see the module documentation), sending as `from`
    /// (`noreply@example.com` or `Kunci <noreply@example.com>`). Nothing is sent or
    /// connected until the first [`send`](Mailer::send). Must be called inside a Tokio
    /// runtime (an error otherwise).
    pub fn new(url: &str, from: &str, clock: Arc<dyn Clock>) -> Result<Self, AuthnError> {
        let runtime = Handle::try_current()
            .map_err(|_| config("the SMTP mailer must be created inside a Tokio runtime"))?;
        let from = message::parse_from(from)?;
        let parsed = Url::parse(url).map_err(|_| config("the SMTP URL does not parse"))?;
        let security = security_of(&parsed)?;
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| config("the SMTP URL has no host"))?;
        let loopback = is_loopback(host);
        let has_credentials = !parsed.username().is_empty() || parsed.password().is_some();
        if has_credentials
            && matches!(security, Security::Plain | Security::Opportunistic)
            && !loopback
        {
            return Err(config(
                "SMTP credentials would be sent unencrypted; use smtps:// or ?tls=starttls",
            ));
        }
        if security == Security::Plain && !loopback {
            tracing::warn!(host, "SMTP relay configured without TLS");
        }

        // lettre reads the same URL shape, but spells STARTTLS `tls=required`.
        let mut for_lettre = parsed.clone();
        for_lettre.set_query(match security {
            Security::StartTls => Some("tls=required"),
            Security::Opportunistic => Some("tls=opportunistic"),
            Security::Plain | Security::Implicit => None,
        });
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(for_lettre.as_str())
            .map_err(|_| config("the SMTP URL was refused by the transport"))?
            .timeout(Some(TIMEOUT))
            .build();
        let port = parsed.port().unwrap_or(match security {
            Security::Plain => 25,
            Security::Opportunistic | Security::StartTls => 587,
            Security::Implicit => 465,
        });
        Ok(Self {
            transport: Some(transport),
            runtime,
            from,
            clock,
            endpoint: format!("{host}:{port} ({security:?})"),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), AuthnError> {
        let msg = message::build(&self.from, mail, self.clock.now())?;
        let transport = self
            .transport
            .as_ref()
            .ok_or_else(|| config("the SMTP mailer is shut down"))?;
        transport.send(msg).await.map_err(|e| classify(&e))?;
        tracing::debug!(relay = %self.endpoint, "mail handed to the SMTP relay");
        Ok(())
    }
}

impl Drop for SmtpMailer {
    fn drop(&mut self) {
        // lettre's pool spawns its shutdown onto the current runtime when dropped.
        let _entered = self.runtime.enter();
        drop(self.transport.take());
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.endpoint)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn config(msg: &str) -> AuthnError {
    AuthnError::MailConfig(msg.to_owned())
}

/// The transport security the URL asks for.
fn security_of(url: &Url) -> Result<Security, AuthnError> {
    let mut tls = None;
    for (key, value) in url.query_pairs() {
        if key != "tls" {
            return Err(AuthnError::MailConfig(format!(
                "unknown SMTP URL parameter `{key}` (only `tls` is understood)"
            )));
        }
        tls = Some(value.into_owned());
    }
    match (url.scheme(), tls.as_deref()) {
        ("smtp", None) => Ok(Security::Plain),
        ("smtp", Some("starttls" | "required")) => Ok(Security::StartTls),
        ("smtp", Some("opportunistic")) => Ok(Security::Opportunistic),
        ("smtps", None) => Ok(Security::Implicit),
        ("smtp", Some(_)) => Err(config(
            "the SMTP URL's `tls` must be `starttls` or `opportunistic`",
        )),
        ("smtps", Some(_)) => Err(config("smtps:// always uses TLS; drop the `tls` parameter")),
        _ => Err(config("the SMTP URL must start with smtp:// or smtps://")),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reduces lettre's error to a class and a reply code. lettre's message would include the
/// relay's reply text, which often repeats the recipient address.
fn classify(e: &SmtpError) -> AuthnError {
    let failure = if e.is_timeout() {
        SmtpFailure::Timeout
    } else if e.is_tls() {
        SmtpFailure::Tls
    } else if e.is_permanent() {
        SmtpFailure::Permanent
    } else if e.is_transient() {
        SmtpFailure::Transient
    } else {
        SmtpFailure::Connection
    };
    AuthnError::Smtp {
        failure,
        code: e.status().map(|c| c.to_string()),
    }
}
