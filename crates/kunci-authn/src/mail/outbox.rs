//! [`OutboxMailer`]: writes each message as an RFC 5322 `.eml` file instead of sending it.
//!
//! Meant for development, demos and tests: open the file in a mail client, or read the link
//! out of it. Files are named `<unix-time>-<random>.eml`, created with mode 0600 (the
//! directory, when created here, with 0700) because they hold one-time links. Each file is
//! written under a temporary name and renamed, so a reader never sees half a message.
//! Only the file path is logged.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use kunci_core::Clock;
use kunci_core::secret::random_token;
use lettre::message::Mailbox;
use tokio::io::AsyncWriteExt;

use super::{Mail, Mailer, message};
use crate::AuthnError;

/// Writes mail into a directory.
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
    clock: Arc<dyn Clock>,
}

impl OutboxMailer {
    /// An outbox in `dir` (created if missing), writing messages from `from`.
    pub fn new(
        dir: impl Into<PathBuf>,
        from: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthnError> {
        let dir = dir.into();
        let from = message::parse_from(from)?;
        create_private_dir(&dir).map_err(AuthnError::Outbox)?;
        Ok(Self { dir, from, clock })
    }

    /// The directory messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), AuthnError> {
        let now = self.clock.now();
        let bytes = message::build(&self.from, mail, now)?.formatted();
        // 16 base64url characters: 96 random bits, safe in any file system.
        let name = format!("{now}-{}", &random_token()[..16]);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(format!("{name}.eml"));
        if let Err(e) = write_private(&tmp, &bytes).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(AuthnError::Outbox(e));
        }
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(AuthnError::Outbox)?;
        tracing::info!(path = %path.display(), "mail written to outbox");
        Ok(())
    }
}

impl fmt::Debug for OutboxMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxMailer")
            .field("dir", &self.dir)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` (which must not exist) readable and writable by the owner only, and
/// writes `bytes` to it durably.
async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}
