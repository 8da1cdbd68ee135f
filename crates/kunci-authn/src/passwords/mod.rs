//! Passwords: how they are hashed and checked ([`PasswordHasher`]) and which new passwords are
//! acceptable ([`PasswordPolicy`], [`check_new_password`]).

mod common;
mod hasher;
mod policy;

pub use hasher::PasswordHasher;
pub use policy::{HashParams, PasswordPolicy, PasswordRejection, check_new_password};
