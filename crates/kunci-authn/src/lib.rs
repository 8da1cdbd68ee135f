//! # kunci-authn
//!
//! Ways a person proves who they are, and the mail that carries one-time links and codes.
//!
//! - [`passwords`]: Argon2id hashing off the async workers (bounded by a semaphore), equal-time
//!   verification for unknown users, rehash detection and the rules a new password must meet.
//! - [`mail`]: the [`Mailer`] port with an SMTP implementation and a file outbox for development.
//!
//! This crate knows no HTTP framework and reads no wall clock: time comes in as a
//! [`kunci_core::Clock`]. Nothing here logs a password, a recipient or a message body.

pub mod error;
pub mod mail;
pub mod passwords;

pub use error::{AuthnError, SmtpFailure};
pub use mail::{Mail, Mailer, OutboxMailer, SmtpMailer};
pub use passwords::{
    HashParams, PasswordHasher, PasswordPolicy, PasswordRejection, check_new_password,
};
