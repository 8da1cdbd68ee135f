//! # kunci-testkit
//!
//! Test-only support: start a real Kunci on an ephemeral port (through the same composition root
//! `main` uses), pick the backends from the environment, and drive it like a browser would.
//! The end-to-end suites live in this crate's `tests/it/`.

pub mod backends;
pub mod browser;
pub mod cluster;
pub mod faults;
pub mod server;
pub mod suite;

pub use backends::{Backends, require_all};
pub use browser::Browser;
pub use server::{TestClient, TestServer};
