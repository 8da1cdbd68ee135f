//! Argon2id hashing and verification that never blocks the async workers.
//!
//! Each computation runs on tokio's blocking pool, but only after taking a permit from a
//! semaphore sized to the machine's parallelism. Without that bound a burst of logins would
//! start one blocking thread per request (tokio allows 512), each holding ~19 MiB, and starve
//! the CPU the async workers need. The permit moves into the blocking task, so it is held
//! until the computation ends even if the caller gives up waiting.
//!
//! Verification reads the parameters from the stored PHC string, so hashes made under older
//! settings keep working; [`PasswordHasher::needs_rehash`] says when to replace them. Unknown
//! users are verified against a dummy hash with the current parameters, so "no such user"
//! and "wrong password" take the same time.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, Version};
use kunci_core::secret::Secret;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

use super::policy::{PasswordPolicy, PasswordRejection};
use crate::AuthnError;

/// Hashes and verifies passwords. Cheap to clone: all clones share one semaphore.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    policy: PasswordPolicy,
    /// A well-formed hash with the current parameters that no password matches in practice;
    /// verified against when the account does not exist.
    dummy: PasswordHash,
    permits: Arc<Semaphore>,
    concurrency: usize,
    /// Computations running now, and the most that ever ran at once (`peak_concurrency`).
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Salt of the dummy hash. Its value does not matter; its length (16 bytes) matches real ones.
const DUMMY_SALT: &[u8; 16] = b"kunci-dummy-salt";

impl PasswordHasher {
    /// A hasher for `policy`, allowing as many concurrent computations as the machine has
    /// cores ([`std::thread::available_parallelism`], 1 if unknown).
    pub fn new(policy: PasswordPolicy) -> Result<Self, AuthnError> {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::with_concurrency(policy, cores)
    }

    /// A hasher allowing at most `concurrency` (at least 1) computations at a time.
    pub fn with_concurrency(
        policy: PasswordPolicy,
        concurrency: usize,
    ) -> Result<Self, AuthnError> {
        let p = policy.hash;
        let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
            .map_err(AuthnError::InvalidHashParams)?;
        let dummy = dummy_hash(&params)?;
        let concurrency = concurrency.max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
                policy,
                dummy,
                permits: Arc::new(Semaphore::new(concurrency)),
                concurrency,
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
            }),
        })
    }

    /// The policy this hasher was built from.
    pub fn policy(&self) -> &PasswordPolicy {
        &self.inner.policy
    }

    /// How many hashes may be computed at the same time.
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// The most computations that have run at the same time since this hasher was built:
    /// never more than [`Self::concurrency`]. For metrics, and for tests that check the bound
    /// without timing anything.
    pub fn peak_concurrency(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }

    /// Hashes `password` with a fresh random salt and returns the PHC string
    /// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) to store.
    ///
    /// Only the length bound of the policy is enforced here (it bounds the cost); run
    /// [`PasswordPolicy::check_new_password`] first for the other rules.
    pub async fn hash(&self, password: Secret<String>) -> Result<String, AuthnError> {
        let max_bytes = self.inner.policy.max_bytes;
        if password.expose().len() > max_bytes {
            return Err(AuthnError::PasswordRejected(PasswordRejection::TooLong {
                max_bytes,
            }));
        }
        let hashed = self
            .run_blocking(move |inner| {
                let phc: Result<PasswordHash, _> =
                    inner.argon2.hash_password(password.expose().as_bytes());
                phc.map(|h| h.to_string())
            })
            .await?;
        hashed.map_err(AuthnError::Hashing)
    }

    /// Whether `password` matches the stored hash `phc`. Pass `None` when the account does
    /// not exist: the same work is done against a dummy hash and the answer is `false`, so
    /// timing does not reveal which accounts exist.
    ///
    /// A password longer than the policy's `max_bytes` is `false` without hashing; that
    /// depends on the input alone, not on the account.
    pub async fn verify(&self, phc: Option<&str>, password: &str) -> Result<bool, AuthnError> {
        if password.len() > self.inner.policy.max_bytes {
            return Ok(false);
        }
        let stored = match phc {
            Some(s) => Some(PasswordHash::new(s).map_err(|_| AuthnError::MalformedHash)?),
            None => None,
        };
        let account_exists = stored.is_some();
        let password = Secret::new(password.to_owned());
        let outcome = self
            .run_blocking(move |inner| {
                let hash = stored.as_ref().unwrap_or(&inner.dummy);
                inner
                    .argon2
                    .verify_password(password.expose().as_bytes(), hash)
            })
            .await?;
        match outcome {
            Ok(()) => Ok(account_exists),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(AuthnError::Hashing(e)),
        }
    }

    /// Whether a stored hash should be replaced after the next successful login: it is not
    /// Argon2id v19, or its memory, passes or output length are below the current settings,
    /// or it cannot be parsed at all.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return true;
        };
        if hash.algorithm != ARGON2ID_IDENT || hash.version != Some(Version::V0x13.into()) {
            return true;
        }
        let Ok(stored) = Params::try_from(&hash) else {
            return true;
        };
        let current = self.inner.policy.hash;
        stored.m_cost() < current.memory_kib
            || stored.t_cost() < current.iterations
            || stored.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
                < Params::DEFAULT_OUTPUT_LEN
    }

    /// Runs `work` on the blocking pool once a permit is free; the permit is released when
    /// `work` returns, whether or not anyone still awaits the result.
    async fn run_blocking<T, F>(&self, work: F) -> Result<T, AuthnError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthnError::HasherUnavailable)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let now = inner.running.fetch_add(1, Ordering::SeqCst) + 1;
            inner.peak.fetch_max(now, Ordering::SeqCst);
            let out = work(&inner);
            // Before the permit is released (it drops after this), so `running` never counts
            // a finished computation beside the one that takes its permit.
            inner.running.fetch_sub(1, Ordering::SeqCst);
            out
        })
        .await
        .map_err(|_| AuthnError::HasherUnavailable)
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("policy", &self.inner.policy)
            .field("concurrency", &self.inner.concurrency)
            .finish_non_exhaustive()
    }
}

/// A syntactically valid Argon2id hash with `params`, whose output is all zeros.
fn dummy_hash(params: &Params) -> Result<PasswordHash, AuthnError> {
    let salt = Salt::new(DUMMY_SALT).map_err(|_| AuthnError::MalformedHash)?;
    let output =
        Output::new(&[0u8; Params::DEFAULT_OUTPUT_LEN]).map_err(|_| AuthnError::MalformedHash)?;
    let params = ParamsString::try_from(params).map_err(AuthnError::Hashing)?;
    Ok(PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params,
        salt: Some(salt),
        hash: Some(output),
    })
}
