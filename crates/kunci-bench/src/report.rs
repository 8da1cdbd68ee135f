//! The report: every measured point as JSON (for tools and for comparing runs) and as Markdown
//! tables (for people and for `docs/performance.md`).

use crate::load::Measured;
use crate::procfs::Machine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One scenario at one concurrency on one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub deployment: String,
    pub scenario: String,
    pub connections: usize,
    /// Requested total rate (open loop), if any.
    pub rate: Option<f64>,
    pub seconds: f64,
    /// Completed units (requests, or whole flows for flow scenarios).
    pub units: u64,
    pub requests: u64,
    pub units_per_s: f64,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<String, u64>,
    /// Server CPU time per unit (all nodes), in microseconds: the cost that sets capacity.
    pub server_cpu_us_per_unit: Option<f64>,
    /// The load generator's own CPU time per unit, in microseconds.
    pub generator_cpu_us_per_unit: Option<f64>,
    /// PostgreSQL and Redis CPU time per unit (all their local processes), when measured.
    pub postgres_cpu_us_per_unit: Option<f64>,
    pub redis_cpu_us_per_unit: Option<f64>,
    /// Server CPU use during the window, in cores (e.g. 1.2 of 2).
    pub server_cores: Option<f64>,
    pub generator_cores: Option<f64>,
    /// Peak resident memory of the server(s) during the point, summed over nodes.
    pub rss_peak_mib: Option<f64>,
    /// Server RSS just before the point's set-up and just after it ended.
    pub rss_start_mib: Option<f64>,
    pub rss_end_mib: Option<f64>,
    /// Successful units including the warm-up (what memory growth divides by).
    pub units_all: u64,
    /// TCP connections opened (equal to `connections` when keep-alive held).
    pub tcp_connects: u64,
    pub load_average: String,
}

impl Point {
    pub fn new(
        deployment: &str,
        scenario: &str,
        connections: usize,
        rate: Option<f64>,
        m: &Measured,
    ) -> Self {
        Self {
            deployment: deployment.to_owned(),
            scenario: scenario.to_owned(),
            connections,
            rate,
            seconds: m.elapsed.as_secs_f64(),
            units: m.units,
            requests: m.requests,
            units_per_s: m.units_per_s(),
            requests_per_s: m.requests_per_s(),
            p50_ms: m.quantile_ms(0.50),
            p95_ms: m.quantile_ms(0.95),
            p99_ms: m.quantile_ms(0.99),
            max_ms: m.max_ms(),
            errors: m.errors.clone(),
            server_cpu_us_per_unit: None,
            generator_cpu_us_per_unit: None,
            postgres_cpu_us_per_unit: None,
            redis_cpu_us_per_unit: None,
            server_cores: None,
            generator_cores: None,
            rss_peak_mib: None,
            rss_start_mib: None,
            rss_end_mib: None,
            units_all: m.units_all,
            tcp_connects: m.connects,
            load_average: crate::procfs::load_average(),
        }
    }

    /// Attaches the CPU time measured over the point's window.
    pub fn with_cpu(mut self, m: &Measured) -> Self {
        let units = self.units;
        let per_unit = |s: f64| (units > 0).then(|| s * 1e6 / units as f64);
        let server = m.has_server_cpu.then_some(m.cpu.server);
        self.server_cpu_us_per_unit = server.and_then(per_unit);
        self.generator_cpu_us_per_unit = per_unit(m.cpu.generator);
        self.postgres_cpu_us_per_unit = m.cpu.postgres.and_then(per_unit);
        self.redis_cpu_us_per_unit = m.cpu.redis.and_then(per_unit);
        if m.cpu_window_s > 0.0 {
            self.server_cores = server.map(|s| s / m.cpu_window_s);
            self.generator_cores = Some(m.cpu.generator / m.cpu_window_s);
        }
        self
    }
}

/// Start-up and memory of one deployment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Footprint {
    pub deployment: String,
    /// Process start to `/readyz` 200 on the first start (keys generated, migrations run).
    pub first_start_ms: Option<f64>,
    /// The same on a later start (the figure the target is about).
    pub start_ms: Option<f64>,
    pub rss_idle_mib: Option<f64>,
    /// Largest RSS sampled under load.
    pub rss_peak_load_mib: Option<f64>,
    /// VmHWM at the end: the kernel's own peak, including start-up.
    pub rss_hwm_mib: Option<f64>,
    pub rss_idle_after_load_mib: Option<f64>,
}

/// Throughput of Argon2id verification alone on all cores: the ceiling for password logins.
#[derive(Debug, Clone, Serialize)]
pub struct Argon2Baseline {
    pub threads: usize,
    pub verifies_per_s: f64,
    /// Wall time per verification per thread (includes waiting for a shared core).
    pub ms_per_verify_per_core: f64,
    /// CPU time per verification: what the cores can do when nothing else runs.
    pub cpu_ms_per_verify: f64,
    /// The same computation into memory allocated once per thread and reused.
    pub reused_memory_cpu_ms: Option<f64>,
}

/// A run of an external tool (wrk) as a cross-check of the harness's own ceiling.
#[derive(Debug, Clone, Serialize)]
pub struct External {
    pub tool: String,
    pub path: String,
    pub connections: usize,
    pub requests_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub started_at_unix: i64,
    pub finished_at_unix: i64,
    pub machine: Option<Machine>,
    pub kunci_binary: String,
    pub notes: Vec<String>,
    pub argon2: Option<Argon2Baseline>,
    pub external: Vec<External>,
    pub footprints: Vec<Footprint>,
    pub points: Vec<Point>,
    /// The user-table growth check: deployment = `postgres+redis, N users`.
    pub growth: Vec<Point>,
    /// JWKS measured while password logins saturate the cores.
    pub mixed: Vec<Point>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |x| format!("{x:.digits$}"))
}

fn errors(e: &BTreeMap<String, u64>) -> String {
    if e.is_empty() {
        return "0".into();
    }
    let total: u64 = e.values().sum();
    let (top, n) = e
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, n)| (k.as_str(), *n))
        .unwrap_or(("", 0));
    let top: String = top.chars().take(60).collect();
    if total == n {
        format!("{total} ({top})")
    } else {
        format!("{total} ({top}: {n}, …)")
    }
}

/// The points as a Markdown table.
pub fn points_table(points: &[Point]) -> String {
    let mut s = String::from(
        "| deployment | scenario | conns | units/s | req/s | p50 ms | p95 ms | p99 ms | Kunci CPU µs/unit | PG+Redis CPU µs/unit | Kunci cores | gen cores | RSS peak MiB | errors |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for p in points {
        let conns = match p.rate {
            Some(r) => format!("{} @{r:.0}/s", p.connections),
            None => p.connections.to_string(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            p.deployment,
            p.scenario,
            conns,
            p.units_per_s,
            p.requests_per_s,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
            opt(p.server_cpu_us_per_unit, 0),
            match (p.postgres_cpu_us_per_unit, p.redis_cpu_us_per_unit) {
                (Some(a), Some(b)) => format!("{a:.0}+{b:.0}"),
                _ => "–".into(),
            },
            opt(p.server_cores, 2),
            opt(p.generator_cores, 2),
            opt(p.rss_peak_mib, 1),
            errors(&p.errors),
        );
    }
    s
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut s = String::from("# Kunci benchmark report\n\n");
        if let Some(m) = &self.machine {
            let _ = writeln!(
                s,
                "Machine: {} CPUs, {}, {} MiB RAM, Linux {}; load average at start {}.\n",
                m.cpus, m.cpu_model, m.memory_mib, m.kernel, m.load_average
            );
        }
        let _ = writeln!(s, "Kunci binary: `{}`\n", self.kunci_binary);
        for n in &self.notes {
            let _ = writeln!(s, "- {n}");
        }
        if !self.notes.is_empty() {
            s.push('\n');
        }
        if !self.footprints.is_empty() {
            s.push_str("## Start-up and memory\n\n| deployment | first start ms | start ms | RSS idle MiB | RSS peak under load MiB | VmHWM MiB | RSS idle after load MiB |\n|---|---:|---:|---:|---:|---:|---:|\n");
            for f in &self.footprints {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    f.deployment,
                    opt(f.first_start_ms, 0),
                    opt(f.start_ms, 0),
                    opt(f.rss_idle_mib, 1),
                    opt(f.rss_peak_load_mib, 1),
                    opt(f.rss_hwm_mib, 1),
                    opt(f.rss_idle_after_load_mib, 1),
                );
            }
            s.push('\n');
        }
        if let Some(a) = &self.argon2 {
            let _ = writeln!(
                s,
                "Argon2id verification alone (Kunci's hasher, production parameters): {:.1}/s on {} threads; {:.1} ms of CPU per verification, so {:.1}/s per idle core.\n",
                a.verifies_per_s,
                a.threads,
                a.cpu_ms_per_verify,
                1000.0 / a.cpu_ms_per_verify.max(f64::MIN_POSITIVE)
            );
            if let Some(r) = a.reused_memory_cpu_ms {
                let _ = writeln!(
                    s,
                    "The same hash into memory allocated once and reused: {r:.1} ms of CPU.\n"
                );
            }
        }
        if !self.external.is_empty() {
            s.push_str("## Cross-check with wrk\n\n| tool | path | conns | req/s | p50 ms | p99 ms |\n|---|---|---:|---:|---:|---:|\n");
            for e in &self.external {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.0} | {} | {} |",
                    e.tool,
                    e.path,
                    e.connections,
                    e.requests_per_s,
                    opt(e.p50_ms, 2),
                    opt(e.p99_ms, 2)
                );
            }
            s.push('\n');
        }
        for (title, points) in [
            ("Scenarios", &self.points),
            ("JWKS while password logins saturate the cores", &self.mixed),
            ("User-table growth (PostgreSQL)", &self.growth),
        ] {
            if !points.is_empty() {
                let _ = writeln!(s, "## {title}\n\n{}", points_table(points));
            }
        }
        s
    }
}
