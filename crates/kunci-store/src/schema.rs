//! The diesel schema, written once for both backends.
//!
//! Only SQL types that SQLite and PostgreSQL share are used: `Text` for ids and strings,
//! `Bool` for flags and `BigInt` for times (Unix seconds, `kunci_core::UnixTime`). The two
//! migration folders (`migrations/sqlite`, `migrations/postgres`) create tables that match
//! these declarations; keep the three in step.
//!
//! Room left on purpose, not built yet:
//! - per-user data keys (`account_keys`: account id → wrapped AES-256-GCM key, key version),
//!   so personal fields can be encrypted field by field and crypto-shredded on deletion;
//! - an append-only, hash-chained `audit_log` (sequence, time, actor, action, subject,
//!   previous hash, hash).
//!
//! Both will reference `accounts.id` the way `consents` does.

diesel::table! {
    /// Customer accounts. `id` is the stable OIDC subject.
    accounts (id) {
        id -> Text,
        /// Lower-cased and trimmed by the caller; unique.
        email -> Text,
        email_verified -> Bool,
        name -> Text,
        /// Argon2id PHC string.
        password_hash -> Nullable<Text>,
        locale -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Remembered consents: one row per (account, client).
    consents (account_id, client_id) {
        account_id -> Text,
        client_id -> Text,
        /// Scope names joined by single spaces.
        scopes -> Text,
        granted_at -> BigInt,
    }
}

diesel::joinable!(consents -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, consents);
