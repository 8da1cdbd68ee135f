//! The command line: `serve`, `migrate`, `check-config`, `user …`, `client …`, `keys …`.

mod client;
mod keys;
mod serve;
mod user;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kunci",
    version,
    about = "Kunci: an OpenID Connect identity provider"
)]
pub struct Cli {
    /// Configuration file (TOML). Without one, Kunci runs on built-in defaults.
    #[arg(long, global = true, env = "KUNCI_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the identity provider.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load and validate the configuration, then exit.
    CheckConfig,
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Helpers for registering clients.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Signing keys: rotate and list them; generate the master key that seals them in the database.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
}

pub fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KUNCI_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    // Colour only for a person at a terminal; journald, files and pipes get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("KUNCI_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Keys(cmd) = cli.command {
        // `generate-master-key` runs before loading the configuration, which may name a
        // master key not generated yet; the other `keys` commands load it themselves.
        return keys::run(cmd, cli.config.as_deref()).await;
    }
    let loaded = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve::run(loaded).await,
        Command::Migrate => {
            let db = crate::app::connect_database(&loaded.config).await?;
            let applied = db.migrate().await?;
            println!("migrations applied: {applied}");
            Ok(())
        }
        Command::CheckConfig => {
            println!(
                "{}: configuration is valid ({} clients)",
                loaded.source,
                loaded.config.clients.len()
            );
            Ok(())
        }
        Command::User(cmd) => user::run(cmd, &loaded.config).await,
        Command::Client(cmd) => client::run(cmd),
        Command::Keys(_) => unreachable!("`keys` ran before the configuration was loaded"),
    }
}
