//! An independent cross-check of the simplest GET scenarios with `wrk` (Debian package `wrk`),
//! when it is installed: if wrk gets much more out of the server than the harness, the harness
//! is the bottleneck and the report says so.

use crate::report::External;
use std::time::Duration;

/// Whether `wrk` is on the PATH.
pub fn available() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok()
}

/// `wrk -t2 -c<connections> -d<secs> --latency <url>`, bounded by its own duration.
pub async fn run(url: &str, connections: usize, duration: Duration) -> Option<External> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(connections.max(1));
    let out = tokio::process::Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency")
        .arg("--timeout")
        .arg("5s")
        .arg(url)
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).map(|(rps, p50, p99)| External {
        tool: "wrk".into(),
        path: crate::oidc::path_of(url),
        connections,
        requests_per_s: rps,
        p50_ms: p50,
        p99_ms: p99,
    })
}

fn parse(text: &str) -> Option<(f64, Option<f64>, Option<f64>)> {
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let pct = |p: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(p))
            .and_then(|v| millis(v.trim()))
    };
    Some((rps, pct("50%"), pct("99%")))
}

/// wrk's durations: `812.00us`, `1.25ms`, `2.01s`.
fn millis(v: &str) -> Option<f64> {
    let (num, mul) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|x| x * mul)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrk_output_is_read() {
        let out = "  Latency Distribution\n     50%  412.00us\n     75%  1.10ms\n     99%    2.50ms\n  123 requests in 1s\nRequests/sec:  41234.56\nTransfer/sec: 1MB\n";
        let (rps, p50, p99) = super::parse(out).unwrap();
        assert!((rps - 41234.56).abs() < 0.01);
        assert!((p50.unwrap() - 0.412).abs() < 1e-9);
        assert!((p99.unwrap() - 2.5).abs() < 1e-9);
    }
}
