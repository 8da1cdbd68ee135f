//! `kunci keys …`: rotate and list the signing keys, and generate the master key that seals
//! them in the database. Nothing here prints private key material.

use crate::clock::SystemClock;
use crate::config::{Config, KeyStorage};
use crate::keys::{DEFAULT_OVERLAP_SECS, KeyDir, KeyPolicy, KeySource, RELOAD_INTERVAL, state_of};
use anyhow::{Context, bail};
use clap::Subcommand;
use kunci_core::jose::Alg;
use kunci_core::sealing::MasterKey;
use kunci_core::{Clock, UnixTime};
use std::path::Path;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Print a new random master key (32 bytes, base64) for `keys.storage = "database"`.
    ///
    /// Only the key goes to standard output, so it can be captured directly, e.g.
    /// `export KUNCI_MASTER_KEY="$(kunci keys generate-master-key)"`. Every node sharing a
    /// database needs the same key; store it in a secret manager, never in the config file.
    GenerateMasterKey,
    /// Start a key rotation: a new key per algorithm, published now, signing after the overlap.
    ///
    /// The key signing now keeps signing until the new one takes over, then stays published
    /// until every token it signed has expired. Running nodes pick the new key up within a
    /// minute, without a restart. Keys whose tokens have all expired are deleted.
    Rotate {
        /// Rotate only this algorithm (RS256, ES256, EdDSA, PS256). Default: every algorithm
        /// in keys.algorithms.
        #[arg(long, value_name = "ALG")]
        alg: Option<String>,
        /// Seconds from now until the new keys sign. The default covers the JWKS cache
        /// lifetime (300 s) and the nodes' key reload (60 s), with margin. 0 switches at
        /// once (relying parties that cached the JWKS must then refetch it).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_OVERLAP_SECS)]
        overlap_secs: u64,
    },
    /// List the signing keys: kid, algorithm, state (next, active, retired, expired) and
    /// dates. Never key material.
    List,
}

/// `generate-master-key` runs without a configuration: the master key must exist before a
/// configuration that names it (`keys.master_key = "env:KUNCI_MASTER_KEY"`) can be valid.
pub async fn run(cmd: KeysCommand, config_path: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::GenerateMasterKey => {
            println!("{}", MasterKey::generate_base64()?);
            eprintln!(
                "Give every node this key, e.g. in KUNCI_MASTER_KEY with keys.master_key = \"env:KUNCI_MASTER_KEY\". \
                 Keep it secret, and keep it: without it the stored signing keys cannot be decrypted."
            );
            Ok(())
        }
        KeysCommand::Rotate { alg, overlap_secs } => {
            let config = Config::load(config_path)?.config;
            rotate(&config, alg.as_deref(), overlap_secs).await
        }
        KeysCommand::List => list(&Config::load(config_path)?.config).await,
    }
}

/// The configured key home. The database is migrated first, as `kunci user` does.
async fn source(config: &Config) -> anyhow::Result<KeySource> {
    match config.keys.storage {
        KeyStorage::Files => Ok(KeySource::Files(KeyDir::new(&config.data_dir))),
        KeyStorage::Database => {
            let db = crate::app::connect_database(config).await?;
            db.migrate().await.context("database migration failed")?;
            KeySource::from_config(config, &db)
        }
    }
}

async fn rotate(config: &Config, only: Option<&str>, overlap: u64) -> anyhow::Result<()> {
    let policy = KeyPolicy::from_config(config);
    let algs: Vec<Alg> = match only {
        None => policy.algs.clone(),
        Some(name) => {
            let alg = Alg::parse(name).with_context(|| {
                format!("--alg {name:?}: not one of RS256, ES256, EdDSA, PS256 (names are case-sensitive)")
            })?;
            if !policy.algs.contains(&alg) {
                bail!(
                    "--alg {name}: not in keys.algorithms; enable it there and restart the nodes first (they generate its first key)"
                );
            }
            vec![alg]
        }
    };
    let source = source(config).await?;
    let now = SystemClock.now();
    let pruned = source.prune(&policy, now).await?;
    if pruned > 0 {
        println!("deleted {pruned} retired keys whose tokens have all expired");
    }
    for alg in algs {
        let r = source.rotate(alg, overlap, now).await?;
        println!(
            "{}: new key {} is published now and signs from {} (in {overlap} s)",
            alg.as_str(),
            r.kid,
            utc(r.activates_at)
        );
        for old in &r.retiring {
            println!(
                "{:w$}  key {old} signs until then and stays published until {}",
                "",
                utc(r.activates_at.saturating_add(policy.retention)),
                w = alg.as_str().len()
            );
        }
    }
    println!(
        "Running nodes publish the new keys within {} s; no restart is needed. `kunci keys list` shows the states.",
        RELOAD_INTERVAL.as_secs()
    );
    Ok(())
}

async fn list(config: &Config) -> anyhow::Result<()> {
    let policy = KeyPolicy::from_config(config);
    let keys = source(config).await?.list().await?;
    let now = SystemClock.now();
    println!(
        "{:<43}  {:<5}  {:<7}  {:<20}  {:<20}  {:<20}  PUBLISHED UNTIL",
        "KID", "ALG", "STATE", "CREATED", "SIGNS FROM", "RETIRES"
    );
    for k in &keys {
        let l = &k.lifecycle;
        println!(
            "{:<43}  {:<5}  {:<7}  {:<20}  {:<20}  {:<20}  {}",
            k.kid,
            k.alg,
            state_of(k, &policy, now).as_str(),
            utc(k.created_at),
            if l.activates_at <= 0 {
                "-".to_owned()
            } else {
                utc(l.activates_at)
            },
            l.retired_at.map_or("-".to_owned(), utc),
            l.published_until(policy.retention)
                .map_or("-".to_owned(), utc),
        );
    }
    println!("({} keys, times in UTC)", keys.len());
    Ok(())
}

/// `2026-11-21T10:00:00Z` for Unix seconds (proleptic Gregorian calendar, UTC).
fn utc(t: UnixTime) -> String {
    // Days to civil date after Howard Hinnant's `civil_from_days`.
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn unix_times_print_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_795_219_200 + 3_661), "2026-11-21T01:01:01Z");
    }
}
