//! Reading a Redis URL into a deployment shape (standalone, Cluster, Sentinel), and redacting
//! URLs so that a password never reaches a message.
//!
//! Standalone URLs are handed to the redis crate's own parser. The multi-host forms
//! (`…+cluster://`, `…+sentinel://`) are split here into one single-host URL per node, which
//! the redis crate then parses, so credentials and IPv6 literals are decoded in one place.
//! The accepted formats are listed on [`crate::RedisStore`].

use crate::error::SessionError;
use ::redis::sentinel::SentinelNodeConnectionInfo;
use ::redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo, TlsMode};

/// Where the store's data lives, as read from the URL.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Standalone(ConnectionInfo),
    Cluster(Vec<ConnectionInfo>),
    Sentinel {
        /// The Sentinel processes to ask for the current master.
        sentinels: Vec<ConnectionInfo>,
        /// The master (service) name the Sentinels monitor.
        master: String,
        /// Credentials, database and TLS mode for the master itself.
        master_info: SentinelNodeConnectionInfo,
    },
}

/// Reads `url` into a [`Target`]. Every error message carries the redacted URL only.
pub(crate) fn parse(url: &str) -> Result<Target, SessionError> {
    let invalid = |reason: &str| SessionError::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid("it has no scheme"));
    };
    let target = match scheme.to_ascii_lowercase().as_str() {
        "redis" | "rediss" | "valkey" | "valkeys" | "redis+unix" | "valkey+unix" | "unix" => {
            Target::Standalone(node(url).map_err(|r| invalid(&r))?)
        }
        "redis+cluster" | "rediss+cluster" => {
            let base = scheme.split_once('+').map_or(scheme, |(b, _)| b);
            cluster(base, rest).map_err(|r| invalid(&r))?
        }
        "redis+sentinel" | "rediss+sentinel" => {
            let base = scheme.split_once('+').map_or(scheme, |(b, _)| b);
            sentinel(base, rest).map_err(|r| invalid(&r))?
        }
        _ => return Err(invalid("unknown scheme")),
    };
    Ok(target)
}

/// One node's URL through the redis crate's parser, refusing TLS without certificate checks.
fn node(url: &str) -> Result<ConnectionInfo, String> {
    // The redis crate's URL errors name the problem, never a credential.
    let info = url.into_connection_info().map_err(|e| e.to_string())?;
    if let ConnectionAddr::TcpTls { insecure: true, .. } = info.addr() {
        return Err(
            "`#insecure` (TLS without certificate verification) is not supported; \
                    add the server's CA to the system trust store instead"
                .to_owned(),
        );
    }
    Ok(info)
}

/// The parts of `[userinfo@]host1,host2[/path][?query]`.
struct MultiHost<'a> {
    userinfo: Option<&'a str>,
    hosts: Vec<&'a str>,
    path: &'a str,
    query: &'a str,
}

fn split_multi_host(rest: &str) -> Result<MultiHost<'_>, String> {
    if rest.contains('#') {
        return Err("a URL fragment is not supported here".to_owned());
    }
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if hosts.iter().any(|h| h.is_empty()) {
        return Err("the host list is empty or has an empty entry".to_owned());
    }
    Ok(MultiHost {
        userinfo,
        hosts,
        path,
        query,
    })
}

/// `redis[s]+cluster://[user:pass@]host1:port,host2:port[/0]`: seed nodes of a Redis Cluster.
fn cluster(base: &str, rest: &str) -> Result<Target, String> {
    let parts = split_multi_host(rest)?;
    if !matches!(parts.path, "" | "/" | "/0") {
        return Err("a Redis Cluster has only database 0".to_owned());
    }
    let auth = parts.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let query = if parts.query.is_empty() {
        String::new()
    } else {
        format!("/?{}", parts.query)
    };
    let nodes = parts
        .hosts
        .iter()
        .map(|h| node(&format!("{base}://{auth}{h}{query}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Target::Cluster(nodes))
}

/// `redis[s]+sentinel://[user:pass@]s1:26379,s2:26379/<master>[/<db>][?sentinel_username=…&sentinel_password=…]`.
/// The userinfo authenticates to the master; the query parameters to the Sentinels.
fn sentinel(base: &str, rest: &str) -> Result<Target, String> {
    let parts = split_multi_host(rest)?;
    let mut segments = parts.path.trim_matches('/').split('/');
    let master = segments.next().unwrap_or_default();
    if master.is_empty() {
        return Err("the master name is missing (redis+sentinel://host:26379/<master>)".to_owned());
    }
    let db = segments.next().unwrap_or("0");
    if segments.next().is_some() {
        return Err("the path must be /<master> or /<master>/<db>".to_owned());
    }
    let db: i64 = db
        .parse()
        .map_err(|_| format!("`{db}` is not a database number"))?;

    let (mut sentinel_user, mut sentinel_pass) = (None, None);
    for (k, v) in url::form_urlencoded::parse(parts.query.as_bytes()) {
        match k.as_ref() {
            "sentinel_username" => sentinel_user = Some(v.into_owned()),
            "sentinel_password" => sentinel_pass = Some(v.into_owned()),
            other => return Err(format!("unknown query parameter `{other}`")),
        }
    }

    // The master's credentials are decoded by the redis crate from a URL with the same userinfo.
    let auth = parts.userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let first = parts.hosts[0];
    let master_redis = node(&format!("{base}://{auth}{first}/{db}"))?
        .redis_settings()
        .clone();
    let mut master_info =
        SentinelNodeConnectionInfo::default().set_redis_connection_info(master_redis);
    if base == "rediss" {
        master_info = master_info.set_tls_mode(TlsMode::Secure);
    }

    let mut sentinel_redis = RedisConnectionInfo::default();
    if let Some(u) = sentinel_user {
        sentinel_redis = sentinel_redis.set_username(u);
    }
    if let Some(p) = sentinel_pass {
        sentinel_redis = sentinel_redis.set_password(p);
    }
    let sentinels = parts
        .hosts
        .iter()
        .map(|h| Ok(node(&format!("{base}://{h}"))?.set_redis_settings(sentinel_redis.clone())))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Target::Sentinel {
        sentinels,
        master: master.to_owned(),
        master_info,
    })
}

/// `url` with its password and every `*pass*` query value replaced by `***`. Works on every
/// accepted form, including multi-host ones the `url` crate cannot parse, and on garbage.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    // The userinfo ends at the last '@' before the path; the password follows its first ':'.
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{hosts}"),
            None => format!("{userinfo}@{hosts}"),
        },
        None => authority.to_owned(),
    };
    let mut out = String::new();
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    out.push_str(&authority);
    out.push_str(path);
    if let Some(q) = query {
        let (q, fragment) = match q.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (q, None),
        };
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("pass") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_every_password_form() {
        let cases = [
            (
                "redis://:s3cret@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            ("rediss://user:s3cret@h:6380", "rediss://user:***@h:6380"),
            (
                "redis+cluster://u:s3cret@a:1,b:2",
                "redis+cluster://u:***@a:1,b:2",
            ),
            (
                "redis+sentinel://:s3cret@a:26379/m?sentinel_password=s3cret",
                "redis+sentinel://:***@a:26379/m?sentinel_password=***",
            ),
            (
                "unix:///run/redis.sock?pass=s3cret&db=1",
                "unix:///run/redis.sock?pass=***&db=1",
            ),
            ("u:s3cret@host:6379", "u:***@host:6379"),
            ("redis://a:b:s3cret@@h", "redis://a:***@h"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ];
        for (input, expected) in cases {
            let shown = redact(input);
            assert_eq!(shown, expected, "{input}");
            assert!(!shown.contains("s3cret"), "{shown}");
        }
    }

    #[test]
    fn parse_errors_never_echo_the_password() {
        for bad in [
            "redis://:s3cret@h:notaport",
            "ftp://:s3cret@h",
            "redis+cluster://:s3cret@a,,b",
            "redis+sentinel://:s3cret@a:26379",
            "rediss://:s3cret@h#insecure",
        ] {
            let err = parse(bad).expect_err(bad).to_string();
            assert!(!err.contains("s3cret"), "{err}");
            assert!(err.contains("***"), "{err}");
        }
    }

    #[test]
    fn standalone_url_keeps_host_port_db_and_tls() {
        let Target::Standalone(info) = parse("rediss://:pw@example.com:6380/3").unwrap() else {
            panic!("not standalone");
        };
        assert!(
            matches!(info.addr(), ConnectionAddr::TcpTls { host, port: 6380, insecure: false, .. } if host == "example.com")
        );
        assert_eq!(info.redis_settings().db(), 3);
        assert_eq!(info.redis_settings().password(), Some("pw"));
    }

    #[test]
    fn cluster_url_lists_every_seed_node_with_the_shared_credentials() {
        let Target::Cluster(nodes) =
            parse("rediss+cluster://u:p%40ss@a:7000,b:7001,[::1]:7002").unwrap()
        else {
            panic!("not cluster");
        };
        assert_eq!(nodes.len(), 3);
        assert!(
            matches!(nodes[2].addr(), ConnectionAddr::TcpTls { host, port: 7002, .. } if host == "::1")
        );
        assert!(
            nodes
                .iter()
                .all(|n| n.redis_settings().password() == Some("p@ss"))
        );
        assert!(
            nodes
                .iter()
                .all(|n| n.redis_settings().username() == Some("u"))
        );
        assert!(parse("redis+cluster://a:7000/2").is_err());
    }

    #[test]
    fn sentinel_url_separates_master_and_sentinel_credentials() {
        let t = parse(
            "redis+sentinel://:masterpw@s1:26379,s2:26380/mymaster/2?sentinel_password=sentpw",
        )
        .unwrap();
        let Target::Sentinel {
            sentinels,
            master,
            master_info,
        } = t
        else {
            panic!("not sentinel")
        };
        assert_eq!(master, "mymaster");
        assert_eq!(sentinels.len(), 2);
        assert!(matches!(sentinels[1].addr(), ConnectionAddr::Tcp(h, 26380) if h == "s2"));
        assert!(
            sentinels
                .iter()
                .all(|s| s.redis_settings().password() == Some("sentpw"))
        );
        let shown = format!("{master_info:?}");
        assert!(shown.contains("db: 2"), "{shown}");
        assert!(parse("redis+sentinel://s1/m?color=blue").is_err());
        assert!(parse("redis+sentinel://s1/m/notadb").is_err());
    }
}
