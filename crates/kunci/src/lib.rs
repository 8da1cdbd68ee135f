//! # kunci
//!
//! The Kunci binary's library half: configuration, the composition root and the CLI commands.
//! It is a library so the tests start Kunci exactly the way `main` does.

pub mod app;
pub mod backchannel;
pub mod cli;
pub mod clock;
pub mod config;
pub mod jwks_fetch;
pub mod keys;
pub mod tls;
