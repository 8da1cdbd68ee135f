//! Integration tests of kunci-authn, one binary for the whole crate.

mod mail_outbox;
mod mail_smtp;
mod passwords;
mod policy;
mod support;
