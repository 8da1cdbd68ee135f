//! `kunci-bench all`: the whole benchmark as one bounded run.
//!
//! 1. Argon2id alone on all cores (the ceiling for password logins).
//! 2. Embedded default (SQLite + in-memory sessions): start-up time, idle RSS, the harness's own
//!    ceiling (and wrk's, if installed), every scenario at every concurrency level, code flow
//!    with RS256 ID tokens, JWKS while password logins saturate, RS256 access tokens.
//! 3. With `--database-url` and `--redis-url`: PostgreSQL + Redis with two nodes sharing them,
//!    then one node, then (on that node) the user-table growth check (1k → 100k → 1M accounts).
//! 4. The report: JSON and Markdown next to each other, Markdown also on stdout.

use crate::measure::{self, TargetSpec};
use crate::report::{Footprint, Report};
use crate::scenario::{Creds, Scenario};
use crate::server::{self, Backends, Clients, Node};
use crate::{oidc, procfs, seed};
use anyhow::Context;
use clap::Args;
use phases::{embedded, production};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct AllArgs {
    /// The `kunci` binary (default: `kunci` next to this binary, built with cargo first).
    #[arg(long)]
    kunci_bin: Option<PathBuf>,
    /// Do not run `cargo build --release -p kunci` first.
    #[arg(long)]
    no_build: bool,
    /// JSON report path; the Markdown goes next to it (default `<target>/bench/report.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// PostgreSQL admin URL: a fresh database is created under it and dropped at the end.
    #[arg(long, env = "KUNCI_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Redis URL: keys go under a fresh prefix, deleted at the end.
    #[arg(long, env = "KUNCI_BENCH_REDIS_URL")]
    redis_url: Option<String>,
    /// Fewer levels, shorter points, no 1M growth step: about 4 minutes instead of 12.
    #[arg(long)]
    quick: bool,
    /// Concurrency levels (connections / virtual users).
    #[arg(long, value_delimiter = ',')]
    levels: Option<Vec<usize>>,
    /// Recorded seconds per point.
    #[arg(long)]
    duration: Option<f64>,
    #[arg(long)]
    warmup: Option<f64>,
    /// Account counts for the growth check.
    #[arg(long, value_delimiter = ',')]
    growth: Option<Vec<u64>>,
    /// Only these scenarios (default: all).
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<Scenario>>,
    /// Extra environment for every Kunci process, `KEY=VALUE` (repeatable), e.g.
    /// `MALLOC_ARENA_MAX=2` to see how the allocator's settings move RSS.
    #[arg(long = "server-env")]
    server_env: Vec<String>,
}

mod phases;

const SWEEP: [Scenario; 9] = [
    Scenario::Discovery,
    Scenario::Jwks,
    Scenario::ClientCredentials,
    Scenario::ClientCredentialsOpaque,
    Scenario::Introspection,
    Scenario::Userinfo,
    Scenario::Refresh,
    Scenario::CodeFlow,
    Scenario::PasswordLogin,
];
/// Scenarios that need the client-credentials/refresh grants and opaque tokens.
const PROTOCOL: [Scenario; 4] = [
    Scenario::ClientCredentials,
    Scenario::ClientCredentialsOpaque,
    Scenario::Introspection,
    Scenario::Refresh,
];
const SEEDED_USERS: u64 = 1000;

struct Ctx {
    bin: PathBuf,
    clients: Clients,
    password: String,
    hash: String,
    levels: Vec<usize>,
    warmup: f64,
    duration: f64,
    quick: bool,
    only: Option<Vec<Scenario>>,
    server_env: Vec<(String, String)>,
    tmp: tempfile::TempDir,
    report: Report,
}

/// One deployment under test: its nodes and how to reach them.
struct Deployment {
    name: String,
    nodes: Vec<Node>,
    spec: TargetSpec,
    protocol: bool,
    /// Uses the local PostgreSQL and Redis (their CPU is measured too).
    backends: bool,
}

impl Deployment {
    fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.pid).collect()
    }
    fn plan(&self, connections: usize, warmup: f64, duration: f64) -> crate::load::Plan {
        let mut p = measure::plan(connections, warmup, duration, &self.pids());
        p.backend_cpu = self.backends;
        p
    }
    async fn stop(self) {
        for n in self.nodes {
            n.stop().await;
        }
    }
}

pub async fn all(a: AllArgs) -> anyhow::Result<()> {
    let t_run = Instant::now();
    let bin =
        server::kunci_binary(a.kunci_bin.clone(), !a.no_build && a.kunci_bin.is_none()).await?;
    let out = match a.out.clone() {
        Some(p) => p,
        None => default_out()?,
    };
    let password = format!("bench-{}", oidc::random(12));
    let quick = a.quick;
    let mut ctx = Ctx {
        hash: seed::password_hash(&password).await?,
        bin: bin.clone(),
        clients: Clients::generate(),
        password,
        levels: a.levels.clone().unwrap_or(if quick {
            vec![1, 32]
        } else {
            vec![1, 8, 32, 64]
        }),
        warmup: a.warmup.unwrap_or(if quick { 0.5 } else { 1.0 }),
        duration: a.duration.unwrap_or(if quick { 2.0 } else { 4.0 }),
        quick,
        only: a.only.clone(),
        server_env: a
            .server_env
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        tmp: tempfile::Builder::new().prefix("kunci-bench-").tempdir()?,
        report: Report {
            started_at_unix: oidc::unix_now(),
            machine: Some(procfs::Machine::describe()),
            kunci_binary: bin.display().to_string(),
            ..Default::default()
        },
    };
    eprintln!("Argon2id baseline…");
    let secs = if quick { 1.5 } else { 3.0 };
    let mut argon2 = seed::argon2_rate(secs).await?;
    let threads = argon2.threads;
    argon2.reused_memory_cpu_ms = Some(
        tokio::task::spawn_blocking(move || seed::argon2_reused_memory_cpu_ms(secs, threads))
            .await??,
    );
    ctx.report.argon2 = Some(argon2);
    embedded(&mut ctx).await?;
    match (a.database_url.as_deref(), a.redis_url.as_deref()) {
        (Some(db), Some(redis)) => {
            if let Err(e) = production(&mut ctx, db, redis, &a).await {
                ctx.report
                    .notes
                    .push(format!("PostgreSQL + Redis phase failed: {e:#}"));
                eprintln!("PostgreSQL + Redis phase failed: {e:#}");
            }
        }
        _ => ctx
            .report
            .notes
            .push("PostgreSQL + Redis not measured (pass --database-url and --redis-url).".into()),
    }
    ctx.report.finished_at_unix = oidc::unix_now();
    ctx.report.notes.push(format!(
        "Whole run: {:.0} s; load average at the end {}.",
        t_run.elapsed().as_secs_f64(),
        procfs::load_average()
    ));
    write(&ctx.report, &out)
}

fn default_out() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .context("binary has no target dir")?;
    Ok(target.join("bench").join("report.json"))
}

fn write(report: &Report, out: &Path) -> anyhow::Result<()> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, serde_json::to_vec_pretty(report)?)?;
    let md = report.markdown();
    std::fs::write(out.with_extension("md"), &md)?;
    println!("{md}");
    eprintln!(
        "report written to {} and {}",
        out.display(),
        out.with_extension("md").display()
    );
    Ok(())
}

/// Writes the node configs, picks the protocol level the binary accepts, starts the nodes
/// (node 0 twice, to time a start after the first) and measures idle RSS.
async fn deploy(
    ctx: &mut Ctx,
    name: &str,
    backends: &Backends,
    nodes: usize,
    env: &[(&str, &str)],
) -> anyhow::Result<(Deployment, Footprint)> {
    let ports: Vec<u16> = (0..nodes)
        .map(|_| server::free_port())
        .collect::<Result<_, _>>()?;
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let issuer = bases[0].clone();
    let slug = name.replace([' ', '+', ',', '(', ')'], "_");
    let config = |i: usize, protocol: bool| {
        let p = ctx.tmp.path().join(format!("{slug}-node{i}.toml"));
        let text = server::config_toml(
            backends,
            &ctx.clients,
            &issuer,
            &format!("127.0.0.1:{}", ports[i]),
            protocol,
        );
        std::fs::write(&p, text).map(|_| p)
    };
    let mut protocol = true;
    if let Err(msg) = server::check_config(&ctx.bin, &config(0, true)?).await? {
        protocol = false;
        let note = format!(
            "This build refuses the client-credentials/refresh/opaque client settings, so those scenarios report errors: {}",
            msg.lines().last().unwrap_or("")
        );
        if !ctx.report.notes.contains(&note) {
            ctx.report.notes.push(note);
        }
    }
    let mut fp = Footprint {
        deployment: name.to_owned(),
        ..Default::default()
    };
    let log = |i: usize, run: &str| ctx.tmp.path().join(format!("{slug}-node{i}-{run}.log"));
    let mut all_env: Vec<(&str, &str)> = env.to_vec();
    all_env.extend(ctx.server_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let env = all_env.as_slice();
    let first = Node::start(
        &ctx.bin,
        &config(0, protocol)?,
        &bases[0],
        env,
        log(0, "first"),
    )
    .await?;
    fp.first_start_ms = Some(first.ready_after.as_secs_f64() * 1e3);
    first.stop().await;
    let mut started = Vec::new();
    for (i, base) in bases.iter().enumerate() {
        let n = Node::start(&ctx.bin, &config(i, protocol)?, base, env, log(i, "run")).await?;
        if i == 0 {
            fp.start_ms = Some(n.ready_after.as_secs_f64() * 1e3);
        }
        started.push(n);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    fp.rss_idle_mib = mib(started.iter().filter_map(|n| procfs::rss_kib(n.pid)).sum());
    let c = &ctx.clients;
    let spec = TargetSpec {
        issuer,
        bases,
        code_client: Creds {
            client_id: server::WEB.into(),
            secret: c.web_secret.clone(),
        },
        redirect_uri: c.redirect_uri.clone(),
        scope: "openid profile email".into(),
        user_email: seed::EMAIL.into(),
        user_count: SEEDED_USERS as usize,
        password: ctx.password.clone(),
        cc_jwt: Creds {
            client_id: server::CC.into(),
            secret: c.cc_secret.clone(),
        },
        cc_opaque: Creds {
            client_id: server::CC_OPAQUE.into(),
            secret: c.cc_opaque_secret.clone(),
        },
        cc_scope: None,
        introspector: None,
        login_field: "email".into(),
        password_field: "password".into(),
        consent_fields: vec![
            ("decision".into(), "allow".into()),
            ("remember".into(), "1".into()),
        ],
    };
    eprintln!(
        "{name}: {} node(s) ready (start {:.0} ms)",
        nodes,
        fp.start_ms.unwrap_or(0.0)
    );
    Ok((
        Deployment {
            name: name.to_owned(),
            nodes: started,
            spec,
            protocol,
            backends: backends.database_url.is_some(),
        },
        fp,
    ))
}

fn mib(kib: u64) -> Option<f64> {
    (kib > 0).then(|| kib as f64 / 1024.0)
}

/// Every scenario at every level; protocol scenarios the build lacks run once, at the top level.
async fn sweep(ctx: &mut Ctx, d: &Deployment, levels: &[usize]) -> anyhow::Result<()> {
    let target = d.spec.connect().await?;
    for s in SWEEP {
        if ctx.only.as_ref().is_some_and(|o| !o.contains(&s)) {
            continue;
        }
        let lv: Vec<usize> = if !d.protocol && PROTOCOL.contains(&s) {
            levels.last().copied().into_iter().collect()
        } else {
            levels.to_vec()
        };
        for c in lv {
            let plan = d.plan(c, ctx.warmup, ctx.duration);
            ctx.report
                .points
                .push(measure::point(&target, s, &plan, &d.name).await);
        }
    }
    Ok(())
}
