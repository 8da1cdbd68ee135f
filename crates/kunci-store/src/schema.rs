//! The diesel schema, written once for both backends.
//!
//! Only SQL types that SQLite and PostgreSQL share are used: `Text` for ids and strings,
//! `Bool` for flags, `Binary` for sealed bytes (`BLOB` / `BYTEA`) and `BigInt` for times (Unix seconds, `kunci_core::UnixTime`). The two
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

diesel::table! {
    /// Signing keys shared by every node. `sealed` is the private key encrypted under the
    /// master key (kunci-core `sealing`), never the key in clear.
    signing_keys (kid) {
        /// RFC 7638 thumbprint of the public key.
        kid -> Text,
        alg -> Text,
        sealed -> Binary,
        created_at -> BigInt,
        /// NULL until a rotation schedules the key's retirement; from then on it only verifies.
        retired_at -> Nullable<BigInt>,
        /// The key signs from this time on (migration 000004).
        activates_at -> BigInt,
    }
}

diesel::table! {
    /// Refresh tokens, in families (one family per grant). Only digests of tokens are stored.
    refresh_tokens (token_hash) {
        /// base64url SHA-256 of the token.
        token_hash -> Text,
        /// The grant id, shared by every token rotated from one authorization.
        family_id -> Text,
        client_id -> Text,
        account_id -> Text,
        /// Scope names joined by single spaces.
        scopes -> Text,
        session_id -> Text,
        auth_time -> BigInt,
        /// RFC 8176 method names joined by single spaces.
        amr -> Text,
        created_at -> BigInt,
        absolute_expires_at -> BigInt,
        idle_expires_at -> BigInt,
        /// NULL while the token is the family's live one.
        used_at -> Nullable<BigInt>,
        /// The `claims` request parameter (OIDC Core §5.5) as JSON; NULL when none.
        claims -> Nullable<Text>,
        /// RFC 9449 §5: the DPoP key thumbprint a public client's family is bound to.
        dpop_jkt -> Nullable<Text>,
    }
}

diesel::joinable!(consents -> accounts (account_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, consents, signing_keys, refresh_tokens);
