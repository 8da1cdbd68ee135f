//! The phases of `kunci-bench all`: the embedded default (with the harness's ceiling, the
//! RS256 variants and JWKS under password-login load), PostgreSQL + Redis with two nodes and
//! one, and the user-table growth check.

use super::{AllArgs, Ctx, Deployment, SEEDED_USERS, deploy, mib, sweep};
use crate::measure;
use crate::report::{Footprint, Point};
use crate::scenario::Scenario;
use crate::server::{self, Backends};
use crate::{oidc, procfs, seed, wrk};
use std::time::Duration;

pub(super) async fn embedded(ctx: &mut Ctx) -> anyhow::Result<()> {
    let data_dir = ctx.tmp.path().join("embedded-data");
    std::fs::create_dir_all(&data_dir)?;
    let backends = Backends {
        data_dir: data_dir.clone(),
        database_url: None,
        redis: None,
        master_key: None,
    };
    eprintln!("seeding {SEEDED_USERS} accounts in SQLite…");
    let url = format!("sqlite://{}", data_dir.join("kunci.db").display());
    seed::accounts_via_store(&url, 0, SEEDED_USERS, &ctx.hash).await?;
    let (d, mut fp) = deploy(ctx, "embedded", &backends, 1, &[]).await?;
    let result = embedded_points(ctx, &d, &mut fp).await;
    let pid = d.nodes[0].pid;
    tokio::time::sleep(Duration::from_secs(2)).await;
    fp.rss_idle_after_load_mib = mib(procfs::rss_kib(pid).unwrap_or(0));
    fp.rss_hwm_mib = mib(procfs::status_kib(pid, "VmHWM").unwrap_or(0));
    d.stop().await;
    ctx.report.footprints.push(fp);
    result?;
    // RS256 access tokens are a server-wide setting: a second start on the same data.
    if ctx
        .only
        .as_ref()
        .is_none_or(|o| o.contains(&Scenario::ClientCredentials))
    {
        let env = [("KUNCI_TOKENS__ACCESS_TOKEN_ALG", "RS256")];
        let (d, fp) = deploy(ctx, "embedded, RS256 access tokens", &backends, 1, &env).await?;
        let target = d.spec.connect().await?;
        for c in [1, 32] {
            let plan = measure::plan(c, ctx.warmup, ctx.duration, &d.pids());
            let mut p = measure::point(&target, Scenario::ClientCredentials, &plan, &d.name).await;
            p.scenario = "client-credentials (RS256)".into();
            ctx.report.points.push(p);
        }
        d.stop().await;
        drop(fp);
    }
    if ctx
        .only
        .as_ref()
        .is_none_or(|o| o.contains(&Scenario::PasswordLogin))
    {
        allocator_check(ctx, &backends).await?;
    }
    Ok(())
}

/// The same password logins with glibc's mmap threshold pinned: Argon2id's 19 MiB blocks are
/// then always mapped and unmapped, instead of being kept by the allocator after the dynamic
/// threshold has grown past them. Shows how much of the RSS under login load is the allocator.
async fn allocator_check(ctx: &mut Ctx, backends: &Backends) -> anyhow::Result<()> {
    let env = [("MALLOC_MMAP_THRESHOLD_", "131072")];
    let name = "embedded, MALLOC_MMAP_THRESHOLD_=131072";
    let (d, mut fp) = deploy(ctx, name, backends, 1, &env).await?;
    let target = d.spec.connect().await?;
    for (s, c) in [(Scenario::CodeFlow, 8), (Scenario::PasswordLogin, 32)] {
        let plan = d.plan(c, ctx.warmup, ctx.duration);
        ctx.report
            .points
            .push(measure::point(&target, s, &plan, name).await);
    }
    let pid = d.nodes[0].pid;
    fp.rss_peak_load_mib = peak_rss(ctx, name);
    tokio::time::sleep(Duration::from_secs(2)).await;
    fp.rss_idle_after_load_mib = mib(procfs::rss_kib(pid).unwrap_or(0));
    fp.rss_hwm_mib = mib(procfs::status_kib(pid, "VmHWM").unwrap_or(0));
    d.stop().await;
    ctx.report.footprints.push(fp);
    Ok(())
}

async fn embedded_points(ctx: &mut Ctx, d: &Deployment, fp: &mut Footprint) -> anyhow::Result<()> {
    let target = d.spec.connect().await?;
    let pids = d.pids();
    // The harness's own ceiling: the cheapest request Kunci serves.
    let plan = measure::plan(32, ctx.warmup, ctx.duration, &pids);
    let mut p = measure::point(&target, Scenario::Healthz, &plan, "harness ceiling").await;
    p.deployment = "embedded (harness ceiling)".into();
    ctx.report.points.push(p);
    if wrk::available() {
        let secs = Duration::from_secs(if ctx.quick { 2 } else { 4 });
        for path in [
            "/healthz",
            &target.endpoints.discovery,
            &target.endpoints.jwks,
        ] {
            if let Some(e) = wrk::run(&format!("{}{path}", target.bases[0]), 32, secs).await {
                eprintln!("  wrk {path}: {:.0} req/s", e.requests_per_s);
                ctx.report.external.push(e);
            }
        }
    }
    sweep(ctx, d, &ctx.levels.clone()).await?;
    // ID tokens signed with RS256 (OIDC's mandatory algorithm) instead of ES256.
    if ctx
        .only
        .as_ref()
        .is_none_or(|o| o.contains(&Scenario::CodeFlow))
    {
        let mut spec = d.spec.clone();
        spec.code_client.client_id = server::WEB_RS256.into();
        let t = spec.connect().await?;
        let plan = measure::plan(32, ctx.warmup, ctx.duration, &pids);
        let mut p = measure::point(&t, Scenario::CodeFlow, &plan, &d.name).await;
        p.scenario = "code-flow (RS256 ID token)".into();
        ctx.report.points.push(p);
    }
    if ctx
        .only
        .as_ref()
        .is_none_or(|o| o.contains(&Scenario::PasswordLogin))
    {
        mixed(ctx, d).await?;
    }
    fp.rss_peak_load_mib = peak_rss(ctx, &d.name);
    Ok(())
}

/// JWKS at a modest fixed rate while 32 users log in with passwords as fast as they can: the
/// hashing must stay off the async workers, or JWKS latency follows Argon2's.
async fn mixed(ctx: &mut Ctx, d: &Deployment) -> anyhow::Result<()> {
    let target = d.spec.connect().await?;
    let pids = d.pids();
    let logins = measure::plan(32, ctx.warmup, ctx.duration + 4.0, &pids);
    let mut jwks = measure::plan(8, ctx.warmup + 2.0, ctx.duration, &[]);
    jwks.rate = Some(800.0);
    let (a, b) = tokio::join!(
        measure::point(&target, Scenario::PasswordLogin, &logins, &d.name),
        measure::point(&target, Scenario::Jwks, &jwks, &d.name)
    );
    ctx.report.mixed.push(a);
    ctx.report.mixed.push(b);
    Ok(())
}

pub(super) async fn production(
    ctx: &mut Ctx,
    admin_url: &str,
    redis_url: &str,
    a: &AllArgs,
) -> anyhow::Result<()> {
    let db = seed::TempDatabase::create(admin_url).await?;
    let prefix = format!("kunci-bench:{}:", oidc::random(6));
    let result = production_phases(ctx, &db.url, redis_url, &prefix, a).await;
    let cleared = seed::clear_redis(redis_url, &prefix).await;
    let dropped = db.drop_now().await;
    eprintln!(
        "cleanup: redis keys deleted {:?}, database dropped {:?}",
        cleared,
        dropped.is_ok()
    );
    result
}

async fn production_phases(
    ctx: &mut Ctx,
    db_url: &str,
    redis_url: &str,
    prefix: &str,
    a: &AllArgs,
) -> anyhow::Result<()> {
    let backends = Backends {
        data_dir: ctx.tmp.path().join("pg-data"),
        database_url: Some(db_url.to_owned()),
        redis: Some((redis_url.to_owned(), prefix.to_owned())),
        master_key: Some(base64_key()),
    };
    eprintln!("seeding {SEEDED_USERS} accounts in PostgreSQL…");
    seed::accounts_via_store(db_url, 0, SEEDED_USERS, &ctx.hash).await?;
    // Two nodes sharing the database and Redis: every other step of a flow changes node.
    let levels = ctx.levels.clone();
    let (d2, mut fp2) = deploy(ctx, "postgres+redis, 2 nodes", &backends, 2, &[]).await?;
    let r = sweep(ctx, &d2, &levels).await;
    fp2.rss_peak_load_mib = peak_rss(ctx, &d2.name);
    fp2.rss_hwm_mib = mib(d2
        .nodes
        .iter()
        .filter_map(|n| procfs::status_kib(n.pid, "VmHWM"))
        .sum());
    d2.stop().await;
    ctx.report.footprints.push(fp2);
    r?;
    let (d1, mut fp1) = deploy(ctx, "postgres+redis, 1 node", &backends, 1, &[]).await?;
    let r = async {
        sweep(ctx, &d1, &levels).await?;
        growth(ctx, &d1, db_url, a).await
    }
    .await;
    fp1.rss_hwm_mib = mib(procfs::status_kib(d1.nodes[0].pid, "VmHWM").unwrap_or(0));
    fp1.rss_peak_load_mib = peak_rss(ctx, &d1.name);
    d1.stop().await;
    ctx.report.footprints.push(fp1);
    r
}

/// The same requests with 1k, 100k and 1M accounts: lookups are by primary key or unique
/// index, so their cost must stay flat.
async fn growth(ctx: &mut Ctx, d: &Deployment, db_url: &str, a: &AllArgs) -> anyhow::Result<()> {
    let sizes = a.growth.clone().unwrap_or(if ctx.quick {
        vec![1_000, 100_000]
    } else {
        vec![1_000, 100_000, 1_000_000]
    });
    let target = d.spec.connect().await?;
    let mut have = SEEDED_USERS;
    for size in sizes {
        if size > have {
            let took = seed::grow_accounts_pg(db_url, have, size, &ctx.hash).await?;
            ctx.report.notes.push(format!(
                "Grew the accounts table to {size} rows in {:.1} s.",
                took.as_secs_f64()
            ));
            have = size;
        }
        let label = format!("postgres+redis, {size} users");
        for (s, c) in [
            (Scenario::CodeFlow, 1),
            (Scenario::Userinfo, 1),
            (Scenario::PasswordLogin, 1),
            (Scenario::CodeFlow, 32),
        ] {
            let plan = d.plan(c, 0.5, ctx.duration.min(3.0));
            let p: Point = measure::point(&target, s, &plan, &label).await;
            ctx.report.growth.push(p);
        }
    }
    Ok(())
}

/// A fresh master key for the run (base64 of 32 random bytes).
fn base64_key() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("randomness");
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The largest RSS sampled in any point of `deployment` (all its nodes together).
fn peak_rss(ctx: &Ctx, deployment: &str) -> Option<f64> {
    ctx.report
        .points
        .iter()
        .chain(&ctx.report.mixed)
        .filter(|p| p.deployment == deployment)
        .filter_map(|p| p.rss_peak_mib)
        .reduce(f64::max)
}
