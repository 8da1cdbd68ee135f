//! Test data and clean-up: benchmark accounts (through Kunci's own store for small counts,
//! server-side `generate_series` on PostgreSQL for a million), a throw-away PostgreSQL
//! database, the run's Redis keys, and the Argon2id baseline.
//!
//! Every account shares one password and therefore one Argon2id hash, computed once: seeding
//! costs no hashing, and logins still verify a real hash with the production parameters.

use anyhow::Context;
use kunci_authn::{PasswordHasher, PasswordPolicy};
use kunci_core::ports::{Account, AccountRepo};
use kunci_core::secret::Secret;
use kunci_store::{Database, PoolOptions};
use std::time::{Duration, Instant};

/// Account emails: `{i}` is the account number.
pub const EMAIL: &str = "bench-{i}@example.com";

fn account_id(i: u64) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// The Argon2id hash of `password` with Kunci's production parameters.
pub async fn password_hash(password: &str) -> anyhow::Result<String> {
    let h = PasswordHasher::new(PasswordPolicy::default())?;
    Ok(h.hash(Secret::new(password.to_owned())).await?)
}

/// Creates accounts `from..to` through Kunci's store (SQLite or PostgreSQL), migrating first.
pub async fn accounts_via_store(url: &str, from: u64, to: u64, hash: &str) -> anyhow::Result<()> {
    let db = Database::connect(url, &PoolOptions::default())
        .await
        .context("open the database to seed accounts")?;
    db.migrate().await?;
    let now = crate::oidc::unix_now();
    for i in from..to {
        let account = Account {
            id: account_id(i),
            email: EMAIL.replace("{i}", &i.to_string()),
            email_verified: true,
            name: format!("Bench User {i}"),
            password_hash: Some(hash.to_owned()),
            locale: None,
            created_at: now,
            updated_at: now,
        };
        match db.create(&account).await {
            Ok(()) | Err(kunci_core::PortError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn pg(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connect to PostgreSQL")?;
    tokio::spawn(conn);
    Ok(client)
}

/// Grows the accounts table to `to` rows (numbers `from..to`) in server-side batches, then
/// refreshes the planner statistics. Returns how long it took.
pub async fn grow_accounts_pg(
    url: &str,
    from: u64,
    to: u64,
    hash: &str,
) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let db = pg(url).await?;
    let now = crate::oidc::unix_now();
    let mut lo = from;
    while lo < to {
        let hi = (lo + 100_000).min(to);
        db.execute(
            "INSERT INTO accounts (id, email, email_verified, name, password_hash, locale, created_at, updated_at) \
             SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), 'bench-' || g || '@example.com', true, \
                    'Bench User ' || g, $1, NULL, $2, $2 \
             FROM generate_series($3::bigint, $4::bigint) AS g ON CONFLICT DO NOTHING",
            &[&hash, &now, &(lo as i64), &(hi as i64 - 1)],
        )
        .await
        .context("bulk insert of accounts")?;
        lo = hi;
    }
    db.batch_execute("ANALYZE accounts").await?;
    Ok(t0.elapsed())
}

/// A database of its own for one run, dropped by [`TempDatabase::drop_now`].
pub struct TempDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TempDatabase {
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!(
            "kunci_bench_{}",
            crate::oidc::random(8)
                .to_lowercase()
                .replace(['-', '_'], "x")
        );
        pg(admin_url)
            .await?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .context("CREATE DATABASE")?;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&name);
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        pg(&self.admin_url)
            .await?
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}

/// Deletes every Redis key under `prefix`; returns how many.
pub async fn clear_redis(url: &str, prefix: &str) -> anyhow::Result<u64> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let mut cursor: u64 = 0;
    let mut deleted = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await?;
        if !keys.is_empty() {
            let n: u64 = redis::cmd("DEL").arg(&keys).query_async(&mut con).await?;
            deleted += n;
        }
        cursor = next;
        if cursor == 0 {
            return Ok(deleted);
        }
    }
}

/// Argon2id verifications per second on `threads` threads for about `seconds`, through Kunci's
/// own hasher (the blocking pool behind a semaphore sized to the cores).
pub async fn argon2_rate(seconds: f64) -> anyhow::Result<crate::report::Argon2Baseline> {
    let password = "benchmark password 0123456789";
    let hasher = PasswordHasher::new(PasswordPolicy::default())?;
    let hash = hasher.hash(Secret::new(password.to_owned())).await?;
    let threads = hasher.concurrency();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let t0 = Instant::now();
    let cpu0 = crate::procfs::cpu_ticks("self").unwrap_or(0);
    let mut tasks = Vec::new();
    for _ in 0..threads * 2 {
        let (h, hash) = (hasher.clone(), hash.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                if h.verify(Some(&hash), password).await.unwrap_or(false) {
                    n += 1;
                }
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    let rate = total as f64 / t0.elapsed().as_secs_f64();
    let cpu_s = crate::procfs::cpu_ticks("self")
        .unwrap_or(0)
        .saturating_sub(cpu0) as f64
        / crate::procfs::ticks_per_second() as f64;
    Ok(crate::report::Argon2Baseline {
        threads,
        verifies_per_s: rate,
        ms_per_verify_per_core: threads as f64 * 1000.0 / rate.max(f64::MIN_POSITIVE),
        cpu_ms_per_verify: cpu_s * 1000.0 / (total.max(1) as f64),
        reused_memory_cpu_ms: None,
    })
}

/// Argon2id with Kunci's parameters computed into memory blocks each thread allocates once and
/// reuses, for comparison with [`argon2_rate`] (which, like Kunci, allocates 19 MiB per
/// verification). The difference is what allocation, zeroing and page faults cost per login.
pub fn argon2_reused_memory_cpu_ms(seconds: f64, threads: usize) -> anyhow::Result<f64> {
    use argon2::{Algorithm, Argon2, Block, Params, Version};
    let p = PasswordPolicy::default().hash;
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let cpu0 = crate::procfs::cpu_ticks("self").unwrap_or(0);
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let params = params.clone();
            std::thread::spawn(move || {
                let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut blocks = vec![Block::default(); params.block_count()];
                let mut out = [0u8; 32];
                let mut n = 0u64;
                while Instant::now() < deadline {
                    if a.hash_password_into_with_memory(
                        b"benchmark password",
                        b"kunci-bench-salt",
                        &mut out,
                        &mut blocks,
                    )
                    .is_ok()
                    {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let cpu_s = crate::procfs::cpu_ticks("self")
        .unwrap_or(0)
        .saturating_sub(cpu0) as f64
        / crate::procfs::ticks_per_second() as f64;
    Ok(cpu_s * 1000.0 / total.max(1) as f64)
}
