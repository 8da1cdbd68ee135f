//! The password policy: Argon2id cost and the rules a new password must meet.
//!
//! The rules follow NIST SP 800-63B §5.1.1.2: a minimum length, a generous maximum, a check
//! against commonly used passwords and against context-specific words (here the email), and
//! no composition rules ("one digit, one symbol"), which only push people to `Password1!`.

use super::common::is_common;

/// Argon2id cost parameters. The defaults are OWASP's first recommendation
/// (m = 19 MiB, t = 2, p = 1), which takes about 25 ms on one core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// What a deployment asks of passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewer characters (Unicode scalar values) than this are refused.
    pub min_chars: usize,
    /// More bytes (UTF-8) than this are refused, to bound the work one request can cause.
    pub max_bytes: usize,
    /// Cost of new hashes; stored hashes keep the parameters they were made with.
    pub hash: HashParams,
}

impl PasswordPolicy {
    pub const DEFAULT_MIN_CHARS: usize = 8;
    pub const DEFAULT_MAX_BYTES: usize = 1024;

    /// Whether `password` may become the password of the account with address `email`.
    /// Checks run in a fixed order, so the reason reported for a password is stable.
    pub fn check_new_password(&self, password: &str, email: &str) -> Result<(), PasswordRejection> {
        if password.len() > self.max_bytes {
            return Err(PasswordRejection::TooLong {
                max_bytes: self.max_bytes,
            });
        }
        if password.chars().count() < self.min_chars {
            return Err(PasswordRejection::TooShort {
                min_chars: self.min_chars,
            });
        }
        let folded = password.to_lowercase();
        if matches_email(&folded, email) {
            return Err(PasswordRejection::SameAsEmail);
        }
        if is_common(&folded) {
            return Err(PasswordRejection::TooCommon);
        }
        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            hash: HashParams::default(),
        }
    }
}

/// [`PasswordPolicy::check_new_password`] with the default policy.
pub fn check_new_password(password: &str, email: &str) -> Result<(), PasswordRejection> {
    PasswordPolicy::default().check_new_password(password, email)
}

/// `folded` (already lowercase) equals the whole address or its local part, ignoring case and
/// surrounding spaces.
fn matches_email(folded: &str, email: &str) -> bool {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return false;
    }
    let candidate = folded.trim();
    let local = email.rsplit_once('@').map_or(email.as_str(), |(l, _)| l);
    candidate == email || (!local.is_empty() && candidate == local)
}

/// Why a new password was refused. [`code`](Self::code) is a stable key for translated
/// messages; `Display` is an English sentence for logs and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    #[error("the password must have at least {min_chars} characters")]
    TooShort { min_chars: usize },
    #[error("the password must be at most {max_bytes} bytes long")]
    TooLong { max_bytes: usize },
    #[error("the password must not be the email address or its part before the @")]
    SameAsEmail,
    #[error("the password is one of the most commonly used passwords")]
    TooCommon,
}

impl PasswordRejection {
    /// A stable identifier for templates and API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::SameAsEmail => "password_same_as_email",
            Self::TooCommon => "password_too_common",
        }
    }
}
