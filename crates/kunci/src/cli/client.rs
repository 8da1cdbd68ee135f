//! `kunci client hash-secret`: turn a client secret into the `sha256:` form the config file holds.

use clap::Subcommand;
use kunci_core::secret::{random_token, sha256_hex};
use std::io::BufRead;

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Print the `sha256:` digest of a secret read from standard input, or of a new random one.
    HashSecret {
        /// Generate a new random secret (printed once) instead of reading one.
        #[arg(long)]
        generate: bool,
    },
}

pub fn run(cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::HashSecret { generate } => {
            let secret = if generate {
                let s = random_token();
                println!("secret (give this to the client, it is not stored): {s}");
                s
            } else {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let s = line.trim_end_matches(['\r', '\n']).to_owned();
                anyhow::ensure!(
                    s.len() >= 32,
                    "the secret must have at least 32 characters; use --generate for a good one"
                );
                s
            };
            println!("secret = \"sha256:{}\"", sha256_hex(secret.as_bytes()));
            Ok(())
        }
    }
}
