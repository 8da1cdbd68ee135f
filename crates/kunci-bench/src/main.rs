//! `kunci-bench`: Kunci's load harness.
//!
//! - `kunci-bench all`: the whole benchmark in one command. Starts Kunci (release build) on the
//!   embedded default and, given `--database-url` and `--redis-url`, on PostgreSQL + Redis with
//!   one and two nodes; seeds users; sweeps every scenario over the concurrency levels; checks
//!   that a request costs the same with 1k, 100k and 1M users; writes JSON and Markdown.
//! - `kunci-bench run`: one or more scenarios against any running OpenID Provider, given its
//!   issuer and client credentials, so a peer can be measured the same way.
//!
//! Traffic stays on loopback and every run is bounded in time and in count.

mod http;
mod load;
mod measure;
mod oidc;
mod orchestrate;
mod procfs;
mod report;
mod scenario;
mod seed;
mod server;
mod wrk;

use clap::{Args, Parser, Subcommand};
use measure::TargetSpec;
use scenario::{Creds, Scenario};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "kunci-bench",
    about = "Load harness for Kunci or any OpenID Provider"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole benchmark: start Kunci, seed, sweep every scenario, write the report.
    All(Box<orchestrate::AllArgs>),
    /// Scenarios against a running provider.
    Run(Box<RunArgs>),
}

#[derive(Args)]
struct RunArgs {
    /// The provider's issuer URL (loopback only).
    #[arg(long)]
    issuer: String,
    /// Node base URLs to spread connections over (default: the issuer).
    #[arg(long = "target")]
    targets: Vec<String>,
    #[arg(long, value_delimiter = ',', default_value = "discovery,jwks")]
    scenario: Vec<Scenario>,
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    connections: Vec<usize>,
    /// Recorded seconds per point.
    #[arg(long, default_value_t = 4.0)]
    duration: f64,
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Open-loop total rate (units/s) instead of as fast as possible.
    #[arg(long)]
    rate: Option<f64>,
    /// Server process ids, for RSS and CPU (e.g. `$(pidof kunci)`).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    #[arg(long, env = "BENCH_CLIENT_ID", default_value = "")]
    client_id: String,
    #[arg(
        long,
        env = "BENCH_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    client_secret: String,
    #[arg(long, default_value = "")]
    redirect_uri: String,
    #[arg(long, default_value = "openid profile email")]
    scope: String,
    /// Account emails; `{i}` is replaced by the user number.
    #[arg(long, default_value = seed::EMAIL)]
    user_email: String,
    #[arg(long, default_value_t = 1000)]
    user_count: usize,
    #[arg(
        long,
        env = "BENCH_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    password: String,
    #[arg(long, default_value = "email")]
    login_field: String,
    #[arg(long, default_value = "password")]
    password_field: String,
    /// Extra consent form fields, `name=value,...`.
    #[arg(long, default_value = "decision=allow,remember=1")]
    consent_fields: String,
    #[arg(long, env = "BENCH_CC_CLIENT_ID", default_value = "")]
    cc_client_id: String,
    #[arg(
        long,
        env = "BENCH_CC_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    cc_client_secret: String,
    #[arg(long, env = "BENCH_CC_OPAQUE_CLIENT_ID", default_value = "")]
    cc_opaque_client_id: String,
    #[arg(
        long,
        env = "BENCH_CC_OPAQUE_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    cc_opaque_client_secret: String,
    #[arg(long)]
    cc_scope: Option<String>,
    /// JSON output file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn parse_fields(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

async fn run(a: RunArgs) -> anyhow::Result<()> {
    let spec = TargetSpec {
        issuer: a.issuer.trim_end_matches('/').to_owned(),
        bases: a.targets,
        code_client: Creds {
            client_id: a.client_id,
            secret: a.client_secret,
        },
        redirect_uri: a.redirect_uri,
        scope: a.scope,
        user_email: a.user_email,
        user_count: a.user_count,
        password: a.password,
        cc_jwt: Creds {
            client_id: a.cc_client_id,
            secret: a.cc_client_secret,
        },
        cc_opaque: Creds {
            client_id: a.cc_opaque_client_id,
            secret: a.cc_opaque_client_secret,
        },
        cc_scope: a.cc_scope,
        introspector: None,
        login_field: a.login_field,
        password_field: a.password_field,
        consent_fields: parse_fields(&a.consent_fields),
    };
    let target = spec.connect().await?;
    let mut report = report::Report {
        started_at_unix: oidc::unix_now(),
        machine: Some(procfs::Machine::describe()),
        kunci_binary: format!("(external provider at {})", spec.issuer),
        ..Default::default()
    };
    for s in &a.scenario {
        for &c in &a.connections {
            let mut plan = measure::plan(c, a.warmup, a.duration, &a.pids);
            plan.rate = a.rate;
            report
                .points
                .push(measure::point(&target, *s, &plan, "target").await);
        }
    }
    report.finished_at_unix = oidc::unix_now();
    println!("{}", report::points_table(&report.points));
    if let Some(path) = a.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
        eprintln!("JSON written to {}", path.display());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::All(a) => orchestrate::all(*a).await,
            Command::Run(a) => run(*a).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
