//! `kunci user add` and `kunci user list`. Passwords are read from a prompt or standard input,
//! never from the command line (where `ps` and shell history would keep them).

use crate::config::Config;
use anyhow::{Context, bail};
use clap::Subcommand;
use kunci_authn::{PasswordHasher, PasswordPolicy};
use kunci_core::account::{normalize_email, normalize_name};
use kunci_core::ports::{Account, AccountRepo};
use kunci_core::secret::{Secret, random_uuid};
use kunci_core::{Clock, PortError};
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password is prompted for, or read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Leave the email unverified (the user must click a link before signing in).
        #[arg(long)]
        unverified: bool,
    },
    /// List accounts (newest last).
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
}

pub async fn run(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    let db = crate::app::connect_database(config).await?;
    db.migrate().await?;
    match cmd {
        UserCommand::Add {
            email,
            name,
            unverified,
        } => {
            let email = normalize_email(&email).context("--email is not a valid email address")?;
            let name = normalize_name(&name).context("--name must be 1 to 200 characters")?;
            let password = read_password()?;
            let hasher = PasswordHasher::new(PasswordPolicy::default())?;
            if let Err(r) = hasher.policy().check_new_password(&password, &email) {
                bail!("password refused: {r}");
            }
            let hash = hasher.hash(Secret::new(password)).await?;
            let now = crate::clock::SystemClock.now();
            let account = Account {
                id: random_uuid(),
                email,
                email_verified: !unverified,
                name,
                password_hash: Some(hash),
                locale: None,
                created_at: now,
                updated_at: now,
            };
            match db.create(&account).await {
                Ok(()) => println!("created user {} ({})", account.id, account.email),
                Err(PortError::Conflict(_)) => bail!("an account with this email already exists"),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List { limit, offset } => {
            let total = db.count().await?;
            for a in db.list(limit, offset).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    a.email,
                    if a.email_verified {
                        "verified"
                    } else {
                        "unverified"
                    },
                    a.name
                );
            }
            println!("({total} accounts)");
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if p != again {
            bail!("the passwords differ");
        }
        Ok(p)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
