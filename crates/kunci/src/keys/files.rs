//! Signing keys as files in `<data_dir>/keys/` (`keys.storage = "files"`, one node).
//!
//! Each key is two files with one stem, both owner-only (0600) in an owner-only directory:
//!
//! - `<alg>-<kid>.pk8`: the PKCS#8 DER private key (`es256-3kF…Q.pk8`);
//! - `<alg>-<kid>.json`: its lifecycle, `{"alg":"ES256","created_at":…,"activates_at":…,"retired_at":null}`
//!   (Unix seconds). The `kid` is always computed from the key, never read from a name.
//!
//! Files written by versions before rotation existed (`rs256.pk8`, `es256.pk8`) have no
//! metadata file: they have signed since they were made, and get one when they are retired.
//! Every file is written to a temporary name and renamed into place, so a node reloading the
//! directory while `kunci keys rotate` runs never reads half a file. The new key's metadata is
//! written before its key file, and only `*.pk8` files are keys, so a crash in between leaves
//! nothing a node would load. Unlike the database, rotation here is not one atomic step: it is
//! an operator's command on a single node, and two of them at once are not guarded against.

use super::KeyInfo;
use anyhow::{Context, bail};
use kunci_core::UnixTime;
use kunci_core::jose::{Alg, Lifecycle, SigningKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `keys/` directory of a data directory.
#[derive(Debug, Clone)]
pub struct KeyDir {
    dir: PathBuf,
}

/// The metadata file's content.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    alg: String,
    created_at: UnixTime,
    activates_at: UnixTime,
    retired_at: Option<UnixTime>,
}

/// One key file found in the directory, not parsed yet.
struct Found {
    pk8: PathBuf,
    meta_path: PathBuf,
    meta: Meta,
}

impl KeyDir {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("keys"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Every key, parsed, oldest first. Keys of algorithms this version does not know are
    /// skipped with a warning; a file that does not parse stops the caller.
    pub fn read_all(&self) -> anyhow::Result<Vec<(KeyInfo, SigningKey)>> {
        let mut out = Vec::new();
        for f in self.scan()? {
            let Some(alg) = Alg::parse(&f.meta.alg) else {
                tracing::warn!(file = %f.pk8.display(), alg = %f.meta.alg, "skipping a signing key of an unknown algorithm");
                continue;
            };
            let der = std::fs::read(&f.pk8)
                .with_context(|| format!("cannot read signing key {}", f.pk8.display()))?;
            let key = SigningKey::from_pkcs8(alg, &der).with_context(|| {
                format!(
                    "signing key {} is not a valid {} key",
                    f.pk8.display(),
                    alg.as_str()
                )
            })?;
            let info = KeyInfo {
                kid: key.kid().to_owned(),
                alg: f.meta.alg,
                created_at: f.meta.created_at,
                lifecycle: Lifecycle {
                    activates_at: f.meta.activates_at,
                    retired_at: f.meta.retired_at,
                },
            };
            out.push((info, key));
        }
        out.sort_by(|(a, _), (b, _)| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        Ok(out)
    }

    /// Stores a new key: metadata first, then the key file.
    pub fn insert(&self, info: &KeyInfo, der: &[u8]) -> anyhow::Result<()> {
        create_private_dir(&self.dir)
            .with_context(|| format!("cannot create key directory {}", self.dir.display()))?;
        let stem = format!("{}-{}", info.alg.to_ascii_lowercase(), info.kid);
        let meta = Meta {
            alg: info.alg.clone(),
            created_at: info.created_at,
            activates_at: info.lifecycle.activates_at,
            retired_at: info.lifecycle.retired_at,
        };
        write_meta(&self.dir.join(format!("{stem}.json")), &meta)?;
        let pk8 = self.dir.join(format!("{stem}.pk8"));
        write_private(&pk8, der)
            .with_context(|| format!("cannot write signing key {}", pk8.display()))?;
        tracing::info!(path = %pk8.display(), alg = %info.alg, "stored a new signing key");
        Ok(())
    }

    /// The file version of `KeyRepo::rotate_key`: unless a key of the algorithm is waiting
    /// to activate, stores `info`'s key and retires the keys that sign at `now` when it
    /// activates. Returns false when a rotation is already pending.
    pub fn rotate(&self, info: &KeyInfo, der: &[u8], now: UnixTime) -> anyhow::Result<bool> {
        let found = self.scan()?;
        let of_alg = || found.iter().filter(|f| f.meta.alg == info.alg);
        let unretired = |f: &&Found| f.meta.retired_at.is_none();
        if of_alg()
            .filter(unretired)
            .any(|f| f.meta.activates_at > now)
        {
            return Ok(false);
        }
        self.insert(info, der)?;
        for f in of_alg().filter(unretired) {
            let meta = Meta {
                retired_at: Some(info.lifecycle.activates_at),
                alg: f.meta.alg.clone(),
                ..f.meta
            };
            write_meta(&f.meta_path, &meta)?;
        }
        Ok(true)
    }

    /// Deletes the keys retired at or before `retired_by`; returns how many.
    pub fn delete_retired(&self, retired_by: UnixTime) -> anyhow::Result<u64> {
        let mut deleted = 0;
        for f in self.scan()? {
            if f.meta.retired_at.is_some_and(|r| r <= retired_by) {
                std::fs::remove_file(&f.pk8)
                    .with_context(|| format!("cannot delete {}", f.pk8.display()))?;
                if f.meta_path.exists() {
                    std::fs::remove_file(&f.meta_path)
                        .with_context(|| format!("cannot delete {}", f.meta_path.display()))?;
                }
                tracing::info!(path = %f.pk8.display(), "deleted a signing key whose tokens have all expired");
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// The `*.pk8` files with their metadata (read, or implied for the old file names).
    fn scan(&self) -> anyhow::Result<Vec<Found>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read key directory {}", self.dir.display()));
            }
        };
        let mut found = Vec::new();
        for entry in entries {
            let pk8 = entry
                .with_context(|| format!("cannot read key directory {}", self.dir.display()))?
                .path();
            if pk8.extension().is_none_or(|x| x != "pk8") {
                continue;
            }
            let meta_path = pk8.with_extension("json");
            let meta = if meta_path.exists() {
                let text = std::fs::read_to_string(&meta_path)
                    .with_context(|| format!("cannot read {}", meta_path.display()))?;
                serde_json::from_str(&text).with_context(|| {
                    format!("{} is not a key metadata file", meta_path.display())
                })?
            } else {
                legacy_meta(&pk8)?
            };
            found.push(Found {
                pk8,
                meta_path,
                meta,
            });
        }
        Ok(found)
    }
}

/// `rs256.pk8` and `es256.pk8`, written before keys had a lifecycle: signing since made.
fn legacy_meta(pk8: &Path) -> anyhow::Result<Meta> {
    let stem = pk8.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let Some(alg) = Alg::ALL
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(stem))
    else {
        bail!(
            "signing key {} has no metadata file {}.json next to it",
            pk8.display(),
            stem
        );
    };
    let created_at = std::fs::metadata(pk8)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    Ok(Meta {
        alg: alg.as_str().to_owned(),
        created_at,
        activates_at: 0,
        retired_at: None,
    })
}

fn write_meta(path: &Path, meta: &Meta) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(meta).context("key metadata")?;
    write_private(path, &json).with_context(|| format!("cannot write {}", path.display()))
}

pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a file readable only by its owner (created with that mode, so it is never exposed)
/// under a temporary name, then renames it over `path`.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    #[cfg(unix)]
    {
        // A leftover temporary file keeps its old mode; the key must not.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}
