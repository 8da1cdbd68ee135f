//! What the kernel says about a process (Linux `/proc`): resident memory now (VmRSS) and at
//! its peak (VmHWM), and CPU time used. The harness samples the server's RSS while load runs,
//! and divides the server's CPU time by the work done to get a per-request cost that does not
//! depend on how much of the shared cores the load generator took.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A field of `/proc/<pid>/status` in KiB (e.g. `VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// User + system CPU time of `pid` (`self` for this process), in clock ticks.
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: count fields after ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat are the 12th and 13th after the state field (index 0 here).
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every common Linux).
pub fn ticks_per_second() -> u64 {
    static TPS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TPS.get_or_init(read_ticks_per_second)
}

fn read_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// CPU ticks of every process whose command name (`/proc/<pid>/comm`) is `name`.
pub fn ticks_by_name(name: &str) -> HashMap<u32, u64> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .filter_map(|pid| Some((pid, cpu_ticks(&pid.to_string())?)))
        .collect()
}

/// CPU time used since this mark, by process group.
#[derive(Debug, Clone)]
pub struct CpuMark {
    servers: Vec<(u32, u64)>,
    generator: u64,
    /// PostgreSQL and Redis processes by pid (when the deployment uses them).
    backends: Option<[HashMap<u32, u64>; 2]>,
}

/// CPU seconds over a window.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub server: f64,
    pub generator: f64,
    pub postgres: Option<f64>,
    pub redis: Option<f64>,
}

const BACKENDS: [&str; 2] = ["postgres", "redis-server"];

impl CpuMark {
    pub fn now(pids: &[u32], backends: bool) -> Self {
        Self {
            servers: pids
                .iter()
                .map(|p| (*p, cpu_ticks(&p.to_string()).unwrap_or(0)))
                .collect(),
            generator: cpu_ticks("self").unwrap_or(0),
            backends: backends.then(|| BACKENDS.map(ticks_by_name)),
        }
    }

    /// CPU seconds since this mark. Backend processes started since count in full.
    pub fn since(&self, tps: u64) -> CpuUse {
        let pids: Vec<u32> = self.servers.iter().map(|(p, _)| *p).collect();
        let now = Self::now(&pids, self.backends.is_some());
        let server: u64 = now
            .servers
            .iter()
            .zip(&self.servers)
            .map(|((_, b), (_, a))| b.saturating_sub(*a))
            .sum();
        let tps = tps.max(1) as f64;
        let delta = |before: &HashMap<u32, u64>, after: &HashMap<u32, u64>| {
            after
                .iter()
                .map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0)))
                .sum::<u64>() as f64
                / tps
        };
        let (postgres, redis) = match (&self.backends, &now.backends) {
            (Some(b), Some(a)) => (Some(delta(&b[0], &a[0])), Some(delta(&b[1], &a[1]))),
            _ => (None, None),
        };
        CpuUse {
            server: server as f64 / tps,
            generator: now.generator.saturating_sub(self.generator) as f64 / tps,
            postgres,
            redis,
        }
    }
}

/// Samples the summed RSS of `pids` every 50 ms until stopped; keeps the maximum.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pids: Vec<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                let total: u64 = pids.iter().filter_map(|pid| rss_kib(*pid)).sum();
                p.fetch_max(total, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { stop, peak, task }
    }
    /// Stops sampling; the peak summed RSS in KiB (0 when nothing was sampled).
    pub async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

/// The machine, as the report describes it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_mib: u64,
    pub kernel: String,
    pub load_average: String,
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_default();
        let family_model = ["cpu family", "model\t"]
            .iter()
            .filter_map(|k| {
                cpuinfo
                    .lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .collect::<Vec<_>>()
            .join("/");
        let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_mib = mem
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |k| k / 1024);
        Self {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: format!("{cpu_model} (family/model {family_model})"),
            memory_mib,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            load_average: load_average(),
        }
    }
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        assert!(status_kib(me, "VmHWM").unwrap() >= rss_kib(me).unwrap() / 2);
        assert!(cpu_ticks("self").is_some());
    }
}
