//! Kunci under test: the configuration the harness writes (clients, backends, keys) and the
//! `kunci serve` processes it starts, times to readiness and stops.

use crate::http::Conn;
use crate::oidc::random;
use anyhow::{Context, bail};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The clients every deployment registers, with secrets fresh for each run.
#[derive(Debug, Clone)]
pub struct Clients {
    pub web_secret: String,
    pub cc_secret: String,
    pub cc_opaque_secret: String,
    pub redirect_uri: String,
}

pub const WEB: &str = "bench-web";
pub const WEB_RS256: &str = "bench-web-rs256";
pub const CC: &str = "bench-cc";
pub const CC_OPAQUE: &str = "bench-cc-opaque";

impl Clients {
    pub fn generate() -> Self {
        Self {
            web_secret: random(32),
            cc_secret: random(32),
            cc_opaque_secret: random(32),
            redirect_uri: "http://127.0.0.1:9/bench/cb".into(),
        }
    }
}

/// Where one deployment keeps its state.
#[derive(Debug, Clone)]
pub struct Backends {
    pub data_dir: PathBuf,
    /// PostgreSQL URL of the deployment's own database; `None`: embedded SQLite.
    pub database_url: Option<String>,
    /// Redis URL and the run's key prefix; `None`: in-memory sessions.
    pub redis: Option<(String, String)>,
    /// Keys sealed in the database under this master key, shared by every node.
    pub master_key: Option<String>,
}

fn sha256_hex(s: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .fold(String::new(), |mut o, b| {
            let _ = write!(o, "{b:02x}");
            o
        })
}

/// The TOML configuration of one node. `protocol`: also register the clients that need the
/// client-credentials and refresh grants and opaque tokens (older builds refuse those keys).
pub fn config_toml(
    b: &Backends,
    c: &Clients,
    issuer: &str,
    listen: &str,
    protocol: bool,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "version = 1\nissuer = {issuer:?}\nlisten = {listen:?}\ndata_dir = {:?}\n",
        b.data_dir.display().to_string()
    );
    let _ = writeln!(
        s,
        "[database]\nurl = {:?}\nmax_connections = 16\n",
        b.database_url.clone().unwrap_or_default()
    );
    match &b.redis {
        Some((url, prefix)) => {
            let _ = writeln!(
                s,
                "[sessions]\nbackend = \"redis\"\nurl = {url:?}\nkey_prefix = {prefix:?}\n"
            );
        }
        None => s.push_str("[sessions]\nbackend = \"memory\"\n\n"),
    }
    // Short sessions: whatever the run leaves in a shared Redis expires within the hour.
    s.push_str("[tokens]\nsession_ttl_secs = 3600\n\n");
    if let Some(k) = &b.master_key {
        let _ = writeln!(s, "[keys]\nstorage = \"database\"\nmaster_key = {k:?}\n");
    }
    let code = r#"["authorization_code"]"#;
    let user_scopes = r#"["openid", "profile", "email"]"#;
    let mut client = |id: &str,
                      secret: &str,
                      alg: &str,
                      grants: &str,
                      scopes: &str,
                      redirect: bool,
                      extra: &str| {
        let redirect_uris = if redirect {
            format!("[{:?}]", c.redirect_uri)
        } else {
            "[]".to_owned()
        };
        let _ = writeln!(
            s,
            "[[clients]]\nclient_id = {id:?}\nname = \"Benchmark {id}\"\nsecret = \"sha256:{}\"\nredirect_uris = {redirect_uris}\ngrant_types = {grants}\nscopes = {scopes}\ntoken_endpoint_auth_method = \"client_secret_basic\"\nid_token_signed_response_alg = {alg:?}\n{extra}",
            sha256_hex(secret),
        );
    };
    // With `refresh_tokens`, Kunci adds the refresh_token grant and the offline_access scope.
    let refresh = if protocol {
        "refresh_tokens = true\n"
    } else {
        ""
    };
    client(
        WEB,
        &c.web_secret,
        "ES256",
        code,
        user_scopes,
        true,
        refresh,
    );
    client(
        WEB_RS256,
        &c.web_secret,
        "RS256",
        code,
        user_scopes,
        true,
        "",
    );
    if protocol {
        // A service's own scope: the OpenID scopes are about users and never granted here.
        let cc = r#"["client_credentials"]"#;
        let api = r#"["api.read"]"#;
        client(CC, &c.cc_secret, "ES256", cc, api, false, "");
        client(
            CC_OPAQUE,
            &c.cc_opaque_secret,
            "ES256",
            cc,
            api,
            false,
            "access_token_format = \"opaque\"\n",
        );
    }
    s
}

/// `kunci check-config`: Ok, or the validation message.
pub async fn check_config(bin: &Path, config: &Path) -> anyhow::Result<Result<(), String>> {
    let out = tokio::process::Command::new(bin)
        .arg("--config")
        .arg(config)
        .arg("check-config")
        .env("KUNCI_LOG", "warn")
        .output()
        .await
        .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    })
}

/// A free TCP port on loopback (bound, then released for the server to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A running `kunci serve`.
pub struct Node {
    pub pid: u32,
    /// Process start to the first 200 from `/readyz`.
    pub ready_after: Duration,
    child: tokio::process::Child,
}

impl Node {
    /// Starts `bin serve --config config` and waits (at most 90 s) until `/readyz` answers 200.
    pub async fn start(
        bin: &Path,
        config: &Path,
        base: &str,
        env: &[(&str, &str)],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut cmd = tokio::process::Command::new(bin);
        cmd.arg("--config")
            .arg(config)
            .arg("serve")
            .env("KUNCI_LOG", "warn,actix_server=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let t0 = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().context("kunci exited at once")?;
        let mut conn = Conn::new(base, Duration::from_secs(2))?;
        loop {
            if let Ok(r) = conn.send("GET", "/readyz", &[], None).await
                && r.status == 200
            {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "kunci exited with {status} before it was ready; log: {}\n{}",
                    log.display(),
                    tail(&log)
                );
            }
            if t0.elapsed() > Duration::from_secs(90) {
                bail!(
                    "kunci was not ready within 90 s; log: {}\n{}",
                    log.display(),
                    tail(&log)
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(Self {
            pid,
            ready_after: t0.elapsed(),
            child,
        })
    }

    /// SIGTERM (graceful), then SIGKILL after 10 s.
    pub async fn stop(mut self) {
        let _ = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

fn tail(log: &Path) -> String {
    let s = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// The `kunci` binary next to this one (both in `<target>/release`), built first if asked.
pub async fn kunci_binary(explicit: Option<PathBuf>, build: bool) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("kunci");
    if build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        eprintln!("building the release binary: {cargo} build --release -p kunci");
        let mut cmd = tokio::process::Command::new(cargo);
        cmd.args(["build", "--release", "-p", "kunci"]);
        // Under `cargo run`, this process carries the variables cargo sets for kunci-bench
        // (CARGO_PKG_NAME, CARGO_MANIFEST_DIR, …). Build scripts such as ring's declare them
        // with `rerun-if-env-changed`, so passing them on would rebuild half the dependency tree
        // here and again at everyone's next ordinary build.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_MANIFEST_")
                || matches!(
                    k.as_ref(),
                    "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
                )
            {
                cmd.env_remove(&key);
            }
        }
        let status = cmd.status().await?;
        anyhow::ensure!(status.success(), "cargo build --release -p kunci failed");
    }
    anyhow::ensure!(
        bin.exists(),
        "{} not found: build it with `cargo build --release -p kunci` or pass --kunci-bin",
        bin.display()
    );
    Ok(bin)
}
