//! One measured point: run a scenario at one concurrency against a target, sampling the
//! servers' RSS and CPU, and turn it into a report [`Point`].

use crate::http::Conn;
use crate::load::{self, Plan};
use crate::oidc::{Endpoints, Jwks};
use crate::procfs::{RssSampler, rss_kib};
use crate::report::Point;
use crate::scenario::{Creds, Scenario, Target, User};
use std::sync::Arc;
use std::time::Duration;

/// What identifies the provider and its test clients and users.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub issuer: String,
    /// Node base URLs; empty = the issuer.
    pub bases: Vec<String>,
    pub code_client: Creds,
    pub redirect_uri: String,
    pub scope: String,
    pub user_email: String,
    pub user_count: usize,
    pub password: String,
    pub cc_jwt: Creds,
    pub cc_opaque: Creds,
    pub cc_scope: Option<String>,
    pub introspector: Option<Creds>,
    pub login_field: String,
    pub password_field: String,
    pub consent_fields: Vec<(String, String)>,
}

impl TargetSpec {
    /// Reads discovery and the JWKS, and fixes everything the users share.
    pub async fn connect(&self) -> anyhow::Result<Arc<Target>> {
        let bases = if self.bases.is_empty() {
            vec![self.issuer.clone()]
        } else {
            self.bases.clone()
        };
        let mut conn = Conn::new(&bases[0], Duration::from_secs(10))?;
        let endpoints = Endpoints::discover(&mut conn, &self.issuer).await?;
        let jwks = Jwks::fetch(&mut conn, &endpoints.jwks).await?;
        let refresh_scope = if self.scope.split(' ').any(|s| s == "offline_access") {
            self.scope.clone()
        } else {
            format!("{} offline_access", self.scope)
        };
        Ok(Arc::new(Target {
            bases,
            endpoints,
            jwks,
            code_client: self.code_client.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope.clone(),
            refresh_scope,
            user_email: self.user_email.clone(),
            user_count: self.user_count,
            password: self.password.clone(),
            login_field: self.login_field.clone(),
            password_field: self.password_field.clone(),
            consent_fields: self.consent_fields.clone(),
            cc_jwt: self.cc_jwt.clone(),
            cc_opaque: self.cc_opaque.clone(),
            cc_scope: self.cc_scope.clone(),
            introspector: self
                .introspector
                .clone()
                .unwrap_or_else(|| self.cc_opaque.clone()),
            timeout: Duration::from_secs(30),
        }))
    }
}

/// Runs `scenario` with `plan` and returns the point, with RSS and CPU of `plan.server_pids`.
pub async fn point(t: &Arc<Target>, scenario: Scenario, plan: &Plan, deployment: &str) -> Point {
    let rss = || -> Option<f64> {
        let kib: u64 = plan.server_pids.iter().filter_map(|p| rss_kib(*p)).sum();
        (kib > 0).then(|| kib as f64 / 1024.0)
    };
    let rss_start = rss();
    let sampler =
        (!plan.server_pids.is_empty()).then(|| RssSampler::start(plan.server_pids.clone()));
    let t2 = t.clone();
    let m = load::run(plan, move |i| User::new(t2.clone(), scenario, i)).await;
    let peak = match sampler {
        Some(s) => Some(s.stop().await),
        None => None,
    };
    let mut p =
        Point::new(deployment, scenario.name(), plan.connections, plan.rate, &m).with_cpu(&m);
    p.rss_peak_mib = peak.filter(|k| *k > 0).map(|k| k as f64 / 1024.0);
    p.rss_start_mib = rss_start;
    p.rss_end_mib = rss();
    eprintln!(
        "  {deployment:<28} {:<26} c={:<3} {:>9.0} units/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
        p.scenario,
        p.connections,
        p.units_per_s,
        p.p50_ms,
        p.p99_ms,
        m.error_count()
    );
    p
}

/// A plan with the given bounds.
pub fn plan(connections: usize, warmup: f64, duration: f64, pids: &[u32]) -> Plan {
    Plan {
        connections,
        warmup: Duration::from_secs_f64(warmup),
        duration: Duration::from_secs_f64(duration),
        max_units: 5_000_000,
        rate: None,
        server_pids: pids.to_vec(),
        backend_cpu: false,
    }
}
