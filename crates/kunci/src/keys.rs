//! The signing keys, from one of two homes (`keys.storage`):
//!
//! - **files** (the embedded default, one node): PKCS#8 files in `<data_dir>/keys/` with a
//!   small metadata file each (`keys/files.rs`);
//! - **database** (many nodes): rows of the `signing_keys` table, each private key sealed with
//!   AES-256-GCM under the master key (`kunci_core::sealing`), so every node publishes the same
//!   JWKS and signs with the same keys. See `docs/adr/0002-shared-signing-keys.md`.
//!
//! A key is generated only for an enabled algorithm (`keys.algorithms`) without one (an RSA key
//! takes a noticeable fraction of a second), so start-up stays fast. `kunci keys rotate` adds
//! a successor that is published at once and signs only after an overlap; running nodes see it
//! because they reload the keys every [`RELOAD_INTERVAL`] ([`reload`]). Retired keys stay
//! published until every token they signed has expired. See `docs/adr/0006-key-rotation.md`.

mod files;
#[cfg(test)]
mod tests;

pub use files::KeyDir;

use crate::config::{Config, KeyStorage};
use anyhow::{Context, anyhow, bail};
use kunci_core::UnixTime;
use kunci_core::jose::{
    Alg, KeyEntry, KeySet, KeyState, Lifecycle, SharedKeys, SigningKey, generate_pkcs8,
};
use kunci_core::logout::LOGOUT_TOKEN_TTL;
use kunci_core::ports::{KeyRepo, StoredKey};
use kunci_core::sealing::{MasterKey, SealError};
use std::sync::Arc;
use std::time::Duration;

/// How often a running node re-reads the stored keys: a rotated key is published by every
/// node at most this long after `kunci keys rotate`.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(60);
/// How long relying parties may cache `/jwks` (its `Cache-Control: max-age`, kunci-web).
pub const JWKS_MAX_AGE_SECS: i64 = 300;
/// Default time from `kunci keys rotate` until the new key signs: the JWKS cache lifetime
/// (300 s) plus the nodes' reload interval (60 s), plus 240 s for clock skew and slow caches.
/// By then every node publishes the key and every relying party that honours the cache
/// lifetime has fetched it.
pub const DEFAULT_OVERLAP_SECS: u64 = 600;
/// Added to the longest token lifetime before a retired key leaves the JWKS: tokens signed
/// by a node whose clock runs behind.
pub const RETENTION_MARGIN_SECS: i64 = 60;

/// Which keys a node keeps and how long retired ones stay published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    /// The enabled algorithms (`keys.algorithms`): each has a key, only these are loaded.
    pub algs: Vec<Alg>,
    /// How long a retired key stays published: the longest lifetime of a token Kunci signs
    /// (access, ID and logout tokens) plus [`RETENTION_MARGIN_SECS`].
    pub retention: i64,
}

impl KeyPolicy {
    pub fn from_config(config: &Config) -> Self {
        let t = &config.tokens;
        let longest = [t.access_token_ttl_secs, t.id_token_ttl_secs]
            .into_iter()
            .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
            .chain([LOGOUT_TOKEN_TTL])
            .max()
            .unwrap_or(LOGOUT_TOKEN_TTL);
        Self {
            algs: config.signing_algs(),
            retention: longest.saturating_add(RETENTION_MARGIN_SECS),
        }
    }
}

/// A stored key without its private half: what `kunci keys list` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    /// The algorithm's name as stored (possibly one this version does not know).
    pub alg: String,
    pub created_at: UnixTime,
    pub lifecycle: Lifecycle,
}

/// What `kunci keys rotate` did for one algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub alg: Alg,
    /// The new key: published now, signing from `activates_at`.
    pub kid: String,
    pub activates_at: UnixTime,
    /// The keys that sign until then and are retired at `activates_at`.
    pub retiring: Vec<String>,
}

/// Where the keys live, per `keys.storage`. Cheap to clone.
#[derive(Clone)]
pub enum KeySource {
    Files(KeyDir),
    Database {
        repo: Arc<dyn KeyRepo>,
        master: Arc<MasterKey>,
    },
}

impl KeySource {
    /// The configured home; `database` is the durable store (used for `storage = "database"`).
    pub fn from_config(config: &Config, database: &kunci_store::Database) -> anyhow::Result<Self> {
        Ok(match config.keys.storage {
            KeyStorage::Files => Self::Files(KeyDir::new(&config.data_dir)),
            KeyStorage::Database => {
                let master = config.master_key()?.context(
                    "keys.master_key: storage = \"database\" needs a master key; generate one with `kunci keys generate-master-key`",
                )?;
                Self::Database {
                    repo: Arc::new(database.clone()),
                    master: Arc::new(master),
                }
            }
        })
    }

    /// Every stored key, oldest first, without private material (the database's are not even
    /// decrypted).
    pub async fn list(&self) -> anyhow::Result<Vec<KeyInfo>> {
        Ok(match self {
            Self::Files(dir) => dir.read_all()?.into_iter().map(|(info, _)| info).collect(),
            Self::Database { repo, .. } => list_rows(repo.as_ref())
                .await?
                .iter()
                .map(info_of)
                .collect(),
        })
    }

    /// The keys of the enabled algorithms as they are at `now`, for serving: keys whose
    /// tokens have all expired are left out. A key that does not decrypt or parse is an error.
    pub async fn load(&self, policy: &KeyPolicy, now: UnixTime) -> anyhow::Result<KeySet> {
        let entries = self
            .open_all(&policy.algs)
            .await?
            .into_iter()
            .map(|(info, key)| KeyEntry {
                key,
                lifecycle: info.lifecycle,
            })
            .collect();
        KeySet::with_lifecycles(entries, now, policy.retention)
            .context("the stored signing keys are inconsistent")
    }

    /// As [`KeySource::load`], first storing a new key for each enabled algorithm that has no
    /// unretired key (first start, or an algorithm just enabled).
    ///
    /// With the database, of several nodes starting together exactly one key per algorithm
    /// is kept (`KeyRepo::insert_key_if_none_active`), and every node then reads the same
    /// keys. A key that does not decrypt stops start-up: the master key differs from the one
    /// the key was sealed with, and signing with anything else would split the nodes.
    pub async fn load_or_generate(
        &self,
        policy: &KeyPolicy,
        now: UnixTime,
    ) -> anyhow::Result<KeySet> {
        let stored = self.list().await?;
        for alg in &policy.algs {
            let has_key = stored
                .iter()
                .any(|k| k.alg == alg.as_str() && k.lifecycle.retired_at.is_none());
            if !has_key {
                self.store_first_key(*alg, now).await?;
            }
        }
        let set = self.load(policy, now).await?;
        tracing::info!(
            keys = set.entries().len(),
            signing = ?signers(&set, policy, now),
            "signing keys loaded"
        );
        Ok(set)
    }

    /// Starts a rotation of `alg`: a new key, published at once, signs from `now + overlap`;
    /// the key signing now retires then. Refused while a rotation of `alg` is pending, or
    /// when `alg` has no key yet.
    pub async fn rotate(&self, alg: Alg, overlap: u64, now: UnixTime) -> anyhow::Result<Rotation> {
        let stored = self.list().await?;
        let of_alg = || stored.iter().filter(|k| k.alg == alg.as_str());
        let a = alg.as_str();
        if let Some(p) =
            of_alg().find(|k| k.lifecycle.retired_at.is_none() && k.lifecycle.activates_at > now)
        {
            bail!(
                "a rotation of {a} is under way: key {} signs from {} (Unix time); rotate again after that",
                p.kid,
                p.lifecycle.activates_at
            );
        }
        let retiring: Vec<String> = of_alg()
            .filter(|k| k.lifecycle.retired_at.is_none())
            .map(|k| k.kid.clone())
            .collect();
        if retiring.is_empty() {
            bail!(
                "no {a} key signs yet: start Kunci once with {a} in keys.algorithms, which generates the first key"
            );
        }
        let overlap = i64::try_from(overlap).context("--overlap-secs is too large")?;
        let (key, der) = generate(alg).await?;
        let info = KeyInfo {
            kid: key.kid().to_owned(),
            alg: a.to_owned(),
            created_at: now,
            lifecycle: Lifecycle {
                activates_at: now.saturating_add(overlap),
                retired_at: None,
            },
        };
        let stored = match self {
            Self::Files(dir) => dir.rotate(&info, &der, now)?,
            Self::Database { repo, master } => repo
                .rotate_key(&sealed_row(master, &info, &der)?, now)
                .await
                .context("cannot store the new signing key in the database")?,
        };
        if !stored {
            bail!("another rotation of {a} was stored first; see `kunci keys list`");
        }
        tracing::info!(kid = %info.kid, alg = a, activates_at = info.lifecycle.activates_at, "signing key rotation started");
        Ok(Rotation {
            alg,
            kid: info.kid,
            activates_at: info.lifecycle.activates_at,
            retiring,
        })
    }

    /// Deletes the keys whose tokens have all expired (retired more than
    /// `policy.retention` ago); returns how many.
    pub async fn prune(&self, policy: &KeyPolicy, now: UnixTime) -> anyhow::Result<u64> {
        let retired_by = now.saturating_sub(policy.retention);
        match self {
            Self::Files(dir) => dir.delete_retired(retired_by),
            Self::Database { repo, .. } => repo
                .delete_retired_keys(retired_by)
                .await
                .context("cannot delete expired signing keys from the database"),
        }
    }

    /// The stored keys of `algs`, opened, oldest first.
    async fn open_all(&self, algs: &[Alg]) -> anyhow::Result<Vec<(KeyInfo, SigningKey)>> {
        let wanted = |alg: &str| algs.iter().any(|a| a.as_str() == alg);
        match self {
            Self::Files(dir) => Ok(dir
                .read_all()?
                .into_iter()
                .filter(|(info, _)| wanted(&info.alg))
                .collect()),
            Self::Database { repo, master } => {
                let mut out = Vec::new();
                for row in list_rows(repo.as_ref()).await? {
                    let Some(alg) = Alg::parse(&row.alg) else {
                        // Written by a newer version (e.g. during a rolling upgrade): not ours.
                        tracing::warn!(kid = %row.kid, alg = %row.alg, "skipping a signing key of an unknown algorithm");
                        continue;
                    };
                    if wanted(&row.alg) {
                        out.push((info_of(&row), open(master, &row, alg)?));
                    }
                }
                Ok(out)
            }
        }
    }

    /// Generates and stores a key for `alg` that signs at once, unless (database) another
    /// node stored one first.
    async fn store_first_key(&self, alg: Alg, now: UnixTime) -> anyhow::Result<()> {
        let (key, der) = generate(alg).await?;
        let info = KeyInfo {
            kid: key.kid().to_owned(),
            alg: alg.as_str().to_owned(),
            created_at: now,
            lifecycle: Lifecycle {
                activates_at: now,
                retired_at: None,
            },
        };
        match self {
            Self::Files(dir) => dir.insert(&info, &der),
            Self::Database { repo, master } => {
                let inserted = repo
                    .insert_key_if_none_active(&sealed_row(master, &info, &der)?)
                    .await
                    .context("cannot store the new signing key in the database")?;
                if inserted {
                    tracing::info!(kid = %info.kid, alg = alg.as_str(), "generated a new signing key");
                } else {
                    tracing::info!(
                        alg = alg.as_str(),
                        "another node stored a signing key first; using it"
                    );
                }
                Ok(())
            }
        }
    }
}

/// Re-reads the keys and makes them current when anything changed (a rotation, a key that
/// activated, retired or left the JWKS). On failure the keys loaded before stay in use, so a
/// database hiccup never takes signing down. Returns whether the keys were replaced.
pub async fn reload(
    source: &KeySource,
    policy: &KeyPolicy,
    keys: &SharedKeys,
    now: UnixTime,
) -> anyhow::Result<bool> {
    let set = source.load(policy, now).await?;
    if let Some(alg) = policy
        .algs
        .iter()
        .find(|a| set.signing_key_at(**a, now).is_none())
    {
        bail!(
            "no {} key is stored any more; keeping the keys loaded before",
            alg.as_str()
        );
    }
    let summary = |s: &KeySet| -> Vec<(String, Lifecycle)> {
        s.entries()
            .iter()
            .map(|e| (e.key.kid().to_owned(), e.lifecycle))
            .collect()
    };
    if summary(&keys.current()) == summary(&set) {
        return Ok(false);
    }
    tracing::info!(
        published = set.entries().len(),
        signing = ?signers(&set, policy, now),
        "signing keys reloaded"
    );
    keys.replace(set);
    Ok(true)
}

/// `(alg, kid)` of the key that signs each enabled algorithm at `now`, for logs.
fn signers(set: &KeySet, policy: &KeyPolicy, now: UnixTime) -> Vec<(&'static str, String)> {
    policy
        .algs
        .iter()
        .filter_map(|a| Some((a.as_str(), set.signing_key_at(*a, now)?.kid().to_owned())))
        .collect()
}

/// The state of `info` at `now` under `policy` (`keys list`).
pub fn state_of(info: &KeyInfo, policy: &KeyPolicy, now: UnixTime) -> KeyState {
    info.lifecycle.state(now, policy.retention)
}

async fn list_rows(repo: &dyn KeyRepo) -> anyhow::Result<Vec<StoredKey>> {
    repo.list_keys().await.context(
        "cannot read the signing keys from the database (are its migrations applied? `kunci migrate`)",
    )
}

fn info_of(row: &StoredKey) -> KeyInfo {
    KeyInfo {
        kid: row.kid.clone(),
        alg: row.alg.clone(),
        created_at: row.created_at,
        lifecycle: Lifecycle {
            activates_at: row.activates_at,
            retired_at: row.retired_at,
        },
    }
}

fn open(master: &MasterKey, row: &StoredKey, alg: Alg) -> anyhow::Result<SigningKey> {
    let kid = &row.kid;
    let der = master.open(kid.as_bytes(), &row.sealed).map_err(|e| match e {
        SealError::Rejected => anyhow!(
            "signing key {kid} in the database cannot be decrypted: keys.master_key is not the master key it was sealed with (every node sharing this database needs the same master key), or the row was altered"
        ),
        other => anyhow!("signing key {kid} in the database cannot be decrypted: {other}"),
    })?;
    let key = SigningKey::from_pkcs8(alg, &der).with_context(|| {
        format!(
            "signing key {kid} in the database is not a valid {} key",
            alg.as_str()
        )
    })?;
    if key.kid() != kid {
        bail!(
            "signing key {kid} in the database holds a different key (kid {}); the row was altered",
            key.kid()
        );
    }
    Ok(key)
}

/// A new key of `alg` and its PKCS#8 DER.
async fn generate(alg: Alg) -> anyhow::Result<(SigningKey, Vec<u8>)> {
    // RSA generation is CPU work worth a fraction of a second: keep it off the async workers.
    let der = tokio::task::spawn_blocking(move || generate_pkcs8(alg))
        .await
        .context("key generation was interrupted")?
        .context("key generation failed")?;
    let key = SigningKey::from_pkcs8(alg, &der).context("a freshly generated key is invalid")?;
    Ok((key, der))
}

/// The database row of a key: its private half sealed under the master key, bound to its kid.
fn sealed_row(master: &MasterKey, info: &KeyInfo, der: &[u8]) -> anyhow::Result<StoredKey> {
    Ok(StoredKey {
        kid: info.kid.clone(),
        alg: info.alg.clone(),
        sealed: master
            .seal(info.kid.as_bytes(), der)
            .context("cannot seal the new signing key")?,
        created_at: info.created_at,
        activates_at: info.lifecycle.activates_at,
        retired_at: info.lifecycle.retired_at,
    })
}
