//! PasswordHasher: hashing, verification, equal-time unknown users, rehash detection and the
//! concurrency bound.

use std::time::{Duration, Instant};

use kunci_authn::{AuthnError, HashParams, PasswordHasher, PasswordPolicy, PasswordRejection};
use kunci_core::secret::Secret;

const PASSWORD: &str = "correct horse battery staple";

fn hasher() -> PasswordHasher {
    PasswordHasher::new(PasswordPolicy::default()).unwrap()
}

fn weak_hasher() -> PasswordHasher {
    PasswordHasher::new(PasswordPolicy {
        hash: HashParams {
            memory_kib: 8192,
            iterations: 1,
            parallelism: 1,
        },
        ..PasswordPolicy::default()
    })
    .unwrap()
}

async fn hash(h: &PasswordHasher, password: &str) -> String {
    h.hash(Secret::new(password.to_owned())).await.unwrap()
}

#[tokio::test]
async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
    let h = hasher();
    let phc = hash(&h, PASSWORD).await;
    assert!(h.verify(Some(&phc), PASSWORD).await.unwrap());
    assert!(
        !h.verify(Some(&phc), "correct horse battery stapler")
            .await
            .unwrap()
    );
    assert!(!h.verify(Some(&phc), "").await.unwrap());
}

#[tokio::test]
async fn the_hash_is_argon2id_v19_with_the_owasp_parameters() {
    let phc = hash(&hasher(), PASSWORD).await;
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(!phc.contains(PASSWORD));
}

#[tokio::test]
async fn two_hashes_of_one_password_differ_by_their_salt() {
    let h = hasher();
    let (a, b) = (hash(&h, PASSWORD).await, hash(&h, PASSWORD).await);
    assert_ne!(a, b);
    assert!(h.verify(Some(&a), PASSWORD).await.unwrap());
    assert!(h.verify(Some(&b), PASSWORD).await.unwrap());
}

#[tokio::test]
async fn an_unknown_user_is_refused_whatever_the_password() {
    let h = hasher();
    assert!(!h.verify(None, PASSWORD).await.unwrap());
    assert!(!h.verify(None, "").await.unwrap());
}

/// How long one failed verification against `phc` takes.
async fn timed(h: &PasswordHasher, phc: Option<&str>) -> Duration {
    let start = Instant::now();
    assert!(!h.verify(phc, "not the password").await.unwrap());
    start.elapsed()
}

#[tokio::test]
async fn an_unknown_user_costs_a_full_argon2_computation() {
    let h = hasher();
    let phc = hash(&h, PASSWORD).await;
    // Interleaved, so a burst of load on the machine weighs on both sides alike.
    let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
    for _ in 0..4 {
        known = known.min(timed(&h, Some(&phc)).await);
        unknown = unknown.min(timed(&h, None).await);
    }
    assert!(
        unknown * 4 >= known,
        "unknown user took {unknown:?}, a real verification {known:?}"
    );
}

#[tokio::test]
async fn a_hash_made_with_older_weaker_parameters_still_verifies_and_asks_for_a_rehash() {
    let old = hash(&weak_hasher(), PASSWORD).await;
    assert!(old.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{old}");
    let h = hasher();
    assert!(h.verify(Some(&old), PASSWORD).await.unwrap());
    assert!(!h.verify(Some(&old), "wrong").await.unwrap());
    assert!(h.needs_rehash(&old));
}

#[tokio::test]
async fn a_current_hash_needs_no_rehash_and_a_stronger_one_is_kept() {
    let h = hasher();
    assert!(!h.needs_rehash(&hash(&h, PASSWORD).await));
    // Seen from the weak hasher, the default hash is stronger: no downgrade.
    assert!(!weak_hasher().needs_rehash(&hash(&h, PASSWORD).await));
}

#[test]
fn foreign_or_unreadable_hashes_ask_for_a_rehash() {
    let h = hasher();
    assert!(h.needs_rehash("not a hash"));
    assert!(h.needs_rehash("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"));
    assert!(h.needs_rehash(
        "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3ZQ4Rv0QzHuIasHA5GjIawZqL2jMUObDr5Pvn0EdxdI"
    ));
}

#[tokio::test]
async fn a_malformed_stored_hash_is_an_error_not_a_match() {
    let err = hasher()
        .verify(Some("$argon2id$garbage"), PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthnError::MalformedHash), "{err:?}");
    assert!(!err.to_string().contains("garbage"));
}

#[tokio::test]
async fn an_over_long_password_is_not_hashed() {
    let h = hasher();
    let long = "a".repeat(1025);
    let err = h.hash(Secret::new(long.clone())).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuthnError::PasswordRejected(PasswordRejection::TooLong { max_bytes: 1024 })
        ),
        "{err:?}"
    );
    let phc = hash(&h, PASSWORD).await;
    assert!(!h.verify(Some(&phc), &long).await.unwrap());
    // The bound is inclusive.
    let at_limit = "a".repeat(1024);
    let phc = hash(&h, &at_limit).await;
    assert!(h.verify(Some(&phc), &at_limit).await.unwrap());
}

#[test]
fn out_of_range_parameters_are_refused() {
    let policy = PasswordPolicy {
        hash: HashParams {
            memory_kib: 19456,
            iterations: 0,
            parallelism: 1,
        },
        ..PasswordPolicy::default()
    };
    let err = PasswordHasher::new(policy).unwrap_err();
    assert!(matches!(err, AuthnError::InvalidHashParams(_)), "{err:?}");
}

#[test]
fn concurrency_defaults_to_the_available_parallelism() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(hasher().concurrency(), cores);
    assert_eq!(
        PasswordHasher::with_concurrency(PasswordPolicy::default(), 0)
            .unwrap()
            .concurrency(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_verifications_all_complete_with_the_right_answers() {
    let h = hasher();
    let phc = hash(&h, PASSWORD).await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (h, phc) = (h.clone(), phc.clone());
            tokio::spawn(async move {
                let attempt = if i % 2 == 0 {
                    PASSWORD
                } else {
                    "wrong password"
                };
                let stored = if i % 4 == 3 { None } else { Some(phc.as_str()) };
                (i, h.verify(stored, attempt).await.unwrap())
            })
        })
        .collect();
    let all = async {
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        results
    };
    let results = tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("32 verifications did not finish: the semaphore deadlocked");
    for (i, ok) in results {
        assert_eq!(ok, i % 2 == 0 && i % 4 != 3, "verification {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_verification_gives_its_permit_back() {
    let h = PasswordHasher::with_concurrency(PasswordPolicy::default(), 1).unwrap();
    let phc = hash(&h, PASSWORD).await;
    for _ in 0..3 {
        // Give up almost at once: the blocking work goes on, then must release the permit.
        let _ =
            tokio::time::timeout(Duration::from_millis(1), h.verify(Some(&phc), PASSWORD)).await;
    }
    let ok = tokio::time::timeout(Duration::from_secs(30), h.verify(Some(&phc), PASSWORD))
        .await
        .expect("a permit leaked: verification never started");
    assert!(ok.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computations_never_overlap_beyond_the_permits() {
    // Counted, not timed: the hasher records the most computations that ever overlapped.
    for concurrency in [1, 2] {
        let h = PasswordHasher::with_concurrency(PasswordPolicy::default(), concurrency).unwrap();
        let phc = hash(&h, PASSWORD).await;
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (h, phc) = (h.clone(), phc.clone());
                tokio::spawn(async move { h.verify(Some(&phc), PASSWORD).await.unwrap() })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
        assert!(h.peak_concurrency() >= 1, "the computations were counted");
        assert!(
            h.peak_concurrency() <= concurrency,
            "{} computations overlapped with {concurrency} permits",
            h.peak_concurrency()
        );
    }
}

#[test]
fn debug_output_shows_the_policy_but_no_secret() {
    let shown = format!("{:?}", Secret::new(PASSWORD.to_owned()));
    assert!(!shown.contains("horse"));
    let shown = format!("{:?}", hasher());
    assert!(shown.contains("19456"), "{shown}");
}
