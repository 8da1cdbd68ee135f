//! Signing keys on the embedded default: PKCS#8 files in `<data_dir>/keys/`, generated on first
//! start (directory 0700, files 0600) and loaded on every later start, so start-up stays fast.

use anyhow::Context;
use kunci_core::jose::{Alg, KeySet, SigningKey, generate_pkcs8};
use std::path::Path;

/// Loads (or creates) one key per algorithm.
pub fn load_or_generate(data_dir: &Path) -> anyhow::Result<KeySet> {
    let dir = data_dir.join("keys");
    create_private_dir(&dir)
        .with_context(|| format!("cannot create key directory {}", dir.display()))?;
    let mut keys = Vec::new();
    for alg in [Alg::RS256, Alg::ES256] {
        let path = dir.join(format!("{}.pk8", alg.as_str().to_lowercase()));
        let der = if path.exists() {
            std::fs::read(&path)
                .with_context(|| format!("cannot read signing key {}", path.display()))?
        } else {
            let der = generate_pkcs8(alg).context("key generation failed")?;
            write_private(&path, &der)
                .with_context(|| format!("cannot write signing key {}", path.display()))?;
            tracing::info!(path = %path.display(), alg = alg.as_str(), "generated a new signing key");
            der
        };
        let key = SigningKey::from_pkcs8(alg, &der).with_context(|| {
            format!(
                "signing key {} is not a valid {} key",
                path.display(),
                alg.as_str()
            )
        })?;
        keys.push(key);
    }
    Ok(KeySet::new(keys))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a file readable only by its owner, created with that mode so it is never exposed.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
