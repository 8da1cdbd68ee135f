//! Database URLs: which backend a URL names, and how to print one without its password.
//!
//! The backend is picked from the scheme here, before anything connects, so that a bad URL or
//! an unreachable server produces that backend's own error (diesel's `MultiConnection` tries
//! every backend in turn and reports only "invalid connection url").

use crate::error::StoreError;

/// The backend a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `sqlite://PATH`: a file path, relative to the working directory unless it starts with `/`.
    Sqlite { path: String },
    /// `postgres://…` or `postgresql://…`, passed on whole to the PostgreSQL driver.
    Postgres { url: String },
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Self, StoreError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(StoreError::InvalidUrl {
                url: redact_url(url),
                reason: "expected `sqlite://PATH` or `postgres://USER@HOST/DB`".into(),
            });
        };
        if scheme.eq_ignore_ascii_case("sqlite") {
            Self::sqlite(url, rest)
        } else if scheme.eq_ignore_ascii_case("postgres")
            || scheme.eq_ignore_ascii_case("postgresql")
        {
            Ok(Target::Postgres {
                url: url.to_owned(),
            })
        } else {
            Err(StoreError::UnsupportedScheme {
                scheme: scheme.to_owned(),
                url: redact_url(url),
            })
        }
    }

    fn sqlite(url: &str, path: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact_url(url),
            reason: reason.to_owned(),
        };
        if path.is_empty() {
            return Err(invalid("the path after `sqlite://` is empty"));
        }
        if path.contains(":memory:") || path.starts_with("file:") {
            return Err(invalid(
                "in-memory and `file:` URIs are not supported; give a file path, e.g. sqlite://data/kunci.db",
            ));
        }
        if path.contains('?') || path.contains('#') {
            return Err(invalid(
                "sqlite URLs take no query parameters; give only a file path",
            ));
        }
        Ok(Target::Sqlite {
            path: path.to_owned(),
        })
    }
}

/// Returns `url` with any password replaced by `***`, for logs and error messages.
///
/// Covers the password in the user-info part (`postgres://user:secret@host/db`) and
/// `password=` / `sslpassword=` parameters, in a query string or in libpq's
/// `key=value` form. Everything else is kept, so operators can still see which host,
/// database and options were meant.
pub fn redact_url(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = match userinfo.split_once(':') {
                        Some((user, _password)) => format!("{user}:***"),
                        None => userinfo.to_owned(),
                    };
                    format!("{scheme}://{user}@{host}{tail}")
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    redact_password_params(&mut out);
    out
}

/// Replaces the value of every `password=` parameter (including `sslpassword=`) in place.
fn redact_password_params(s: &mut String) {
    const KEY: &str = "password=";
    let mut from = 0;
    while let Some(found) = s[from..].to_ascii_lowercase().find(KEY) {
        let value_start = from + found + KEY.len();
        let value_len = s[value_start..]
            .find(|c: char| c == '&' || c == '#' || c.is_whitespace())
            .unwrap_or(s.len() - value_start);
        s.replace_range(value_start..value_start + value_len, "***");
        from = value_start + 3;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_password_in_user_info() {
        assert_eq!(
            redact_url("postgres://kunci:s3cr%40t@db.internal:5432/kunci?sslmode=require"),
            "postgres://kunci:***@db.internal:5432/kunci?sslmode=require"
        );
    }

    #[test]
    fn keeps_urls_without_a_password() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgresql://127.0.0.1/test",
            "sqlite://data/kunci.db",
            "sqlite:///var/lib/kunci/kunci.db",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn redacts_password_parameters_everywhere() {
        assert_eq!(
            redact_url("postgres://u@h/db?password=hunter2&sslmode=require"),
            "postgres://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?sslpassword=x&PASSWORD=y"),
            "postgres://u@h/db?sslpassword=***&PASSWORD=***"
        );
        assert_eq!(
            redact_url("host=db user=kunci password=hunter2 dbname=kunci"),
            "host=db user=kunci password=*** dbname=kunci"
        );
    }

    #[test]
    fn an_at_sign_in_the_path_is_not_user_info() {
        assert_eq!(redact_url("sqlite://data/a@b.db"), "sqlite://data/a@b.db");
    }

    #[test]
    fn picks_the_backend_from_the_scheme() {
        assert_eq!(
            Target::parse("sqlite://data/kunci.db").unwrap(),
            Target::Sqlite {
                path: "data/kunci.db".into()
            }
        );
        assert_eq!(
            Target::parse("sqlite:///abs/kunci.db").unwrap(),
            Target::Sqlite {
                path: "/abs/kunci.db".into()
            }
        );
        assert!(matches!(
            Target::parse("postgres://h/db"),
            Ok(Target::Postgres { .. })
        ));
        assert!(matches!(
            Target::parse("PostgreSQL://h/db"),
            Ok(Target::Postgres { .. })
        ));
    }

    #[test]
    fn names_the_unsupported_scheme_without_the_password() {
        let err = Target::parse("mysql://root:hunter2@h/db").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`mysql`"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn rejects_sqlite_urls_it_cannot_honour() {
        for url in [
            "sqlite://",
            "sqlite://:memory:",
            "sqlite://x.db?mode=ro",
            "sqlite",
            "kunci.db",
        ] {
            assert!(
                matches!(Target::parse(url), Err(StoreError::InvalidUrl { .. })),
                "{url}"
            );
        }
    }
}
