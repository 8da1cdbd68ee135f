//! `kunci serve`: start the server and tell a newcomer what to do next.

use crate::app;
use crate::config::Loaded;
use anyhow::Context;
use std::net::TcpListener;

pub async fn run(loaded: Loaded) -> anyhow::Result<()> {
    let addr = loaded.config.listen_addr()?;
    let kunci = app::assemble(loaded.config).await?;
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let server = app::http_server(&kunci, listener)?;
    app::spawn_housekeeping(&kunci);
    let c = &kunci.config;
    println!(
        "Kunci is running: issuer {} (config: {})",
        c.issuer, loaded.source
    );
    println!("  discovery: {}/.well-known/openid-configuration", c.issuer);
    println!(
        "  data:      {} (database {:?}, sessions {:?})",
        c.data_dir.display(),
        kunci.database.kind(),
        c.sessions.backend
    );
    println!(
        "  clients:   {}",
        if c.clients.is_empty() {
            "none registered".to_owned()
        } else {
            c.clients
                .iter()
                .map(|c| c.client_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if c.clients.is_empty() {
        println!(
            "  The demo clients are in deploy/kunci.example.toml: run with --config deploy/kunci.example.toml"
        );
    }
    if c.registration.enabled {
        println!(
            "  registration: dynamic clients may register at {}/register ({} initial access token(s))",
            c.issuer.trim_end_matches('/'),
            c.registration.initial_access_tokens.len()
        );
    }
    if c.mail.smtp_url.is_empty() {
        println!(
            "  mail:      written to {} (no SMTP configured)",
            c.outbox_dir().display()
        );
    }
    println!(
        "  Create the first user:  cargo run --release -p kunci -- user add --email you@example.com --name \"Your Name\""
    );
    server
        .await
        .context("the HTTP server stopped with an error")
}
