//! Opening PostgreSQL: pure Rust (tokio-postgres), no libpq, TLS by rustls with ring.
//!
//! TLS follows the URL's `sslmode`: `require`, `verify-ca` and `verify-full` connect over TLS
//! and **always verify** the server certificate and host name, against the Mozilla roots or,
//! when given, the CA file in `sslrootcert`. (libpq's `require` skips verification; Kunci does
//! not, so a private CA must be named in `sslrootcert`.) `disable`, `allow`, `prefer` and no
//! `sslmode` at all connect in plain text.
//!
//! A dead or unreachable server must fail fast rather than hang a request: connecting is
//! bounded by `connect_timeout` (TCP connect, TLS and start-up together), each statement by a
//! server-side `statement_timeout`, and an established connection whose peer vanished is
//! dropped by the kernel after `tcp_user_timeout`. The connection's I/O task runs on tokio.

use crate::error::StoreError;
use crate::pool::PoolOptions;
use crate::url::redact_url;
use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Everything needed to open one connection, shared by every connection of the pool.
struct Target {
    config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
    connect_timeout: Duration,
}

/// Builds a pool of PostgreSQL connections (none opened yet).
pub(crate) fn pool(url: &str, opts: &PoolOptions) -> Result<Pool<AsyncPgConnection>, StoreError> {
    let target = Arc::new(target(url, opts)?);
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.custom_setup = Box::new(move |_url| Box::pin(establish(Arc::clone(&target))));
    let manager = AsyncDieselConnectionManager::new_with_config(redact_url(url), config);
    crate::pool::build(manager, opts)
}

fn target(url: &str, opts: &PoolOptions) -> Result<Target, StoreError> {
    let invalid = |reason: String| StoreError::InvalidUrl {
        url: redact_url(url),
        reason,
    };
    let (base, query) = url.split_once('?').unwrap_or((url, ""));

    let mut use_tls = false;
    let mut root_cert = None;
    let mut passed_on = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key {
            "sslmode" => {
                use_tls = match value {
                    "disable" | "allow" | "prefer" => false,
                    "require" | "verify-ca" | "verify-full" => true,
                    other => return Err(invalid(format!("unknown sslmode `{other}`"))),
                }
            }
            "sslrootcert" => root_cert = Some(percent_decode(value).map_err(invalid)?),
            _ => passed_on.push(param),
        }
    }
    let driver_url = if passed_on.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", passed_on.join("&"))
    };
    let mut config =
        tokio_postgres::Config::from_str(&driver_url).map_err(|e| invalid(e.to_string()))?;

    config.ssl_mode(if use_tls {
        SslMode::Require
    } else {
        SslMode::Disable
    });
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(opts.connect_timeout);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(opts.statement_timeout + opts.connect_timeout);
    }
    if config.get_application_name().is_none() {
        config.application_name("kunci");
    }
    let options = config.get_options().unwrap_or_default().to_owned();
    if !options.contains("statement_timeout") {
        let ms = opts.statement_timeout.as_millis();
        config.options(format!("{options} -c statement_timeout={ms}").trim_start());
    }

    let tls = match (use_tls, root_cert) {
        (false, Some(_)) => {
            return Err(invalid(
                "sslrootcert is given but sslmode does not ask for TLS".into(),
            ));
        }
        (false, None) => None,
        (true, root_cert) => {
            Some(
                tls_connector(root_cert.as_deref()).map_err(|reason| StoreError::Tls {
                    url: redact_url(url),
                    reason,
                })?,
            )
        }
    };
    Ok(Target {
        config,
        tls,
        connect_timeout: opts.connect_timeout,
    })
}

/// A rustls client on the ring provider, trusting `root_cert` (a PEM file) or else the Mozilla roots.
fn tls_connector(root_cert: Option<&str>) -> Result<MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslrootcert `{path}`: {e}"))?;
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "sslrootcert `{path}` holds no usable CA certificate"
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Opens one connection, spawning its I/O task on the current tokio runtime.
async fn establish(target: Arc<Target>) -> Result<AsyncPgConnection, ConnectionError> {
    let connect = async {
        match &target.tls {
            None => {
                let (client, conn) = target
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(bad)?;
                AsyncPgConnection::try_from_client_and_connection(client, conn).await
            }
            Some(tls) => {
                let (client, conn) = target.config.connect(tls.clone()).await.map_err(bad)?;
                AsyncPgConnection::try_from_client_and_connection(client, conn).await
            }
        }
    };
    tokio::time::timeout(target.connect_timeout, connect)
        .await
        .unwrap_or_else(|_| {
            Err(ConnectionError::BadConnection(format!(
                "timed out: the server did not answer within the connect timeout ({:?})",
                target.connect_timeout
            )))
        })
}

fn bad(e: tokio_postgres::Error) -> ConnectionError {
    // tokio-postgres puts the useful part ("Connection refused", "password authentication
    // failed") in the source chain; its own message is often just "error connecting to server".
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg = format!("{msg}: {s_text}");
        }
        source = s.source();
    }
    if msg.contains("UnknownIssuer") {
        msg.push_str(" (if the server's certificate comes from a private CA, name it: sslrootcert=/path/to/ca.pem)");
    }
    ConnectionError::BadConnection(msg)
}

fn percent_decode(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape in `{value}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{value}` is not UTF-8 after decoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> PoolOptions {
        PoolOptions {
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(9),
            ..PoolOptions::default()
        }
    }

    #[test]
    fn plain_unless_the_url_asks_for_tls() {
        for url in [
            "postgres://u@127.0.0.1/db",
            "postgres://u@127.0.0.1/db?sslmode=disable",
            "postgres://u@127.0.0.1/db?sslmode=prefer",
        ] {
            let t = target(url, &opts()).unwrap();
            assert!(t.tls.is_none(), "{url}");
            assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
        }
        for url in [
            "postgres://u@db.example/db?sslmode=require",
            "postgres://u@db.example/db?application_name=x&sslmode=verify-full",
        ] {
            let t = target(url, &opts()).unwrap();
            assert!(t.tls.is_some(), "{url}");
            assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        }
    }

    #[test]
    fn sets_timeouts_unless_the_url_does() {
        let t = target("postgres://u@127.0.0.1/db", &opts()).unwrap();
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(t.config.get_options(), Some("-c statement_timeout=9000"));
        assert_eq!(
            t.config.get_tcp_user_timeout(),
            Some(&Duration::from_secs(12))
        );
        assert_eq!(t.config.get_application_name(), Some("kunci"));

        let t = target(
            "postgres://u@127.0.0.1/db?connect_timeout=7&options=-c%20statement_timeout%3D1",
            &opts(),
        )
        .unwrap();
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(7))
        );
        assert_eq!(t.config.get_options(), Some("-c statement_timeout=1"));
    }

    #[test]
    fn rejects_what_it_cannot_honour_without_leaking_the_password() {
        let err = target("postgres://u:hunter2@h/db?sslmode=bogus", &opts())
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("sslmode `bogus`") && !msg.contains("hunter2"),
            "{msg}"
        );

        let err = target(
            "postgres://u:hunter2@h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem",
            &opts(),
        )
        .err()
        .unwrap();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Tls { .. }), "{msg}");
        assert!(
            msg.contains("/nonexistent/ca.pem") && !msg.contains("hunter2"),
            "{msg}"
        );
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(
            percent_decode("%2Fetc%2Fca%20x.pem").unwrap(),
            "/etc/ca x.pem"
        );
        assert!(percent_decode("%zz").is_err());
    }
}
