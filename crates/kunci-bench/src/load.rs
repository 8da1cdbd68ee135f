//! The load engine: N virtual users, each on its own connection(s), repeat a unit of work
//! (one request, or one whole flow) until a deadline or a count is reached. Every run is
//! bounded in time and in count. Latencies go to an HDR histogram (microseconds); failures
//! are counted by kind.

use crate::procfs::{CpuMark, CpuUse, ticks_per_second};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

/// How one measurement runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub connections: usize,
    /// Run, but do not record, for this long first (connections warm up, caches fill).
    pub warmup: Duration,
    /// Recorded window after the warm-up.
    pub duration: Duration,
    /// Hard bound on units started (warm-up included), whatever the duration.
    pub max_units: u64,
    /// Total target rate in units per second, spread over the connections; `None` = as fast
    /// as each connection can go (closed loop).
    pub rate: Option<f64>,
    /// Server processes whose CPU time is measured over the recorded window.
    pub server_pids: Vec<u32>,
    /// Also measure the CPU of the local PostgreSQL and Redis processes.
    pub backend_cpu: bool,
}

/// A virtual user: set up once, then asked for units of work.
pub trait Vu: Send + 'static {
    /// One unit of work. `Ok(n)`: it succeeded using `n` HTTP requests. `Err(kind)`: it failed;
    /// `kind` is counted as written, so keep it free of per-request values.
    fn unit(&mut self) -> impl Future<Output = Result<u32, String>> + Send;
    /// TCP connections opened so far (1 per connection with working keep-alive).
    fn connects(&self) -> u64;
}

/// What one measurement observed in its recorded window.
#[derive(Debug)]
pub struct Measured {
    pub units: u64,
    pub requests: u64,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    pub connects: u64,
    /// Virtual users whose set-up failed (they did not run).
    pub setup_failures: u64,
    /// CPU seconds over the recorded window (server: `None` without pids).
    pub cpu: CpuUse,
    pub has_server_cpu: bool,
    pub cpu_window_s: f64,
    /// Successful units including the warm-up (for memory growth per unit).
    pub units_all: u64,
}

impl Measured {
    pub fn units_per_s(&self) -> f64 {
        rate(self.units, self.elapsed)
    }
    pub fn requests_per_s(&self) -> f64 {
        rate(self.requests, self.elapsed)
    }
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latency_us.is_empty() {
            return 0.0;
        }
        self.latency_us.value_at_quantile(q) as f64 / 1000.0
    }
    pub fn max_ms(&self) -> f64 {
        self.latency_us.max() as f64 / 1000.0
    }
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

struct Tally {
    latency_us: Histogram<u64>,
    units: u64,
    units_all: u64,
    requests: u64,
    errors: BTreeMap<String, u64>,
    connects: u64,
    last: Option<Instant>,
    setup_failed: bool,
}

/// Runs `plan`: builds one VU per connection with `make` (set-up is not timed), starts them
/// together, and merges what they recorded.
pub async fn run<V, F, Fut>(plan: &Plan, make: F) -> Measured
where
    V: Vu,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<V, String>> + Send + 'static,
{
    let n = plan.connections.max(1);
    let make = Arc::new(make);
    // All users finish set-up (barrier 1), the clock starts, then they go (barrier 2).
    let ready = Arc::new(Barrier::new(n + 1));
    let go = Arc::new(Barrier::new(n + 1));
    let start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let started = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (make, ready, go, start, started, plan) = (
            make.clone(),
            ready.clone(),
            go.clone(),
            start.clone(),
            started.clone(),
            plan.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let vu = make(i).await;
            ready.wait().await;
            go.wait().await;
            let t0 = *start.get().expect("set before the second barrier");
            match vu {
                Ok(vu) => drive(vu, &plan, n, t0, &started).await,
                Err(e) => {
                    let mut t = empty_tally();
                    t.setup_failed = true;
                    *t.errors.entry(format!("setup: {e}")).or_default() += 1;
                    t
                }
            }
        }));
    }
    ready.wait().await;
    let t0 = Instant::now();
    let _ = start.set(t0);
    go.wait().await;
    let warm_end = t0 + plan.warmup;
    tokio::time::sleep_until((warm_end).into()).await;
    let mark = CpuMark::now(&plan.server_pids, plan.backend_cpu);
    let window_start = Instant::now();
    tokio::time::sleep_until((warm_end + plan.duration).into()).await;
    let cpu = mark.since(ticks_per_second());
    let cpu_window_s = window_start.elapsed().as_secs_f64();
    let mut m = Measured {
        units: 0,
        requests: 0,
        elapsed: Duration::ZERO,
        latency_us: histogram(),
        errors: BTreeMap::new(),
        connects: 0,
        setup_failures: 0,
        cpu,
        has_server_cpu: !plan.server_pids.is_empty(),
        cpu_window_s,
        units_all: 0,
    };
    let mut last = warm_end;
    for t in tasks {
        let Ok(t) = t.await else {
            *m.errors.entry("harness task panicked".into()).or_default() += 1;
            continue;
        };
        m.units += t.units;
        m.units_all += t.units_all;
        m.requests += t.requests;
        let _ = m.latency_us.add(&t.latency_us);
        for (k, v) in t.errors {
            *m.errors.entry(k).or_default() += v;
        }
        m.connects += t.connects;
        m.setup_failures += u64::from(t.setup_failed);
        last = last.max(t.last.unwrap_or(warm_end));
    }
    // Time-bound runs measure the whole window; count-bound ones end at their last unit.
    m.elapsed = (last - warm_end).max(if m.units == 0 {
        plan.duration
    } else {
        Duration::ZERO
    });
    m
}

fn empty_tally() -> Tally {
    Tally {
        latency_us: histogram(),
        units: 0,
        units_all: 0,
        requests: 0,
        errors: BTreeMap::new(),
        connects: 0,
        last: None,
        setup_failed: false,
    }
}

async fn drive<V: Vu>(mut vu: V, plan: &Plan, n: usize, t0: Instant, started: &AtomicU64) -> Tally {
    let mut t = empty_tally();
    let warm_end = t0 + plan.warmup;
    let end = warm_end + plan.duration;
    let mut pace = plan.rate.filter(|r| *r > 0.0).map(|r| {
        let mut iv = tokio::time::interval(Duration::from_secs_f64(n as f64 / r));
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        iv
    });
    loop {
        if let Some(iv) = pace.as_mut() {
            iv.tick().await;
        }
        let begin = Instant::now();
        if begin >= end || started.fetch_add(1, Ordering::Relaxed) >= plan.max_units {
            break;
        }
        let outcome = vu.unit().await;
        let done = Instant::now();
        if done > end {
            break;
        }
        let recorded = begin >= warm_end;
        match outcome {
            Ok(requests) if recorded => {
                t.units += 1;
                t.units_all += 1;
                t.requests += u64::from(requests);
                let us = (done - begin).as_micros().max(1) as u64;
                let _ = t.latency_us.record(us.min(t.latency_us.high()));
                t.last = Some(done);
            }
            Ok(_) => t.units_all += 1,
            Err(kind) => {
                if recorded {
                    *t.errors.entry(kind).or_default() += 1;
                    t.requests += 1;
                    t.last = Some(done);
                }
                // A failing target must not turn the harness into a busy loop.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }
    t.connects = vu.connects();
    t
}
