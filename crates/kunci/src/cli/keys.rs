//! `kunci keys …`: the signing keys' master key (and, later, rotation).

use clap::Subcommand;
use kunci_core::sealing::MasterKey;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Print a new random master key (32 bytes, base64) for `keys.storage = "database"`.
    ///
    /// Only the key goes to standard output, so it can be captured directly, e.g.
    /// `export KUNCI_MASTER_KEY="$(kunci keys generate-master-key)"`. Every node sharing a
    /// database needs the same key; store it in a secret manager, never in the config file.
    GenerateMasterKey,
}

/// Runs without a configuration: the master key must exist before a configuration that
/// names it (`keys.master_key = "env:KUNCI_MASTER_KEY"`) can be valid.
pub fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::GenerateMasterKey => {
            println!("{}", MasterKey::generate_base64()?);
            eprintln!(
                "Give every node this key, e.g. in KUNCI_MASTER_KEY with keys.master_key = \"env:KUNCI_MASTER_KEY\". \
                 Keep it secret, and keep it: without it the stored signing keys cannot be decrypted."
            );
            Ok(())
        }
    }
}
