//! Integration tests for kunci-store: one binary, every backend.
//!
//! The conformance cases in [`conformance`] run once per backend through the macro below:
//! always on SQLite, and on PostgreSQL when `KUNCI_TEST_DATABASE_URL` names an admin URL
//! (each test then works in its own fresh database). Backend-specific behaviour (files,
//! TLS, timeouts, runtimes) is tested in the remaining modules.

mod backends;
mod conformance;
mod connect;
mod key_rotation;
mod refresh_tokens;
mod registered_clients;
mod support;

/// Declares one test per case and backend: `sqlite::<case>` and `postgres::<case>`.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::support::on_sqlite(crate::conformance::$case).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::support::on_postgres(crate::conformance::$case).await;
                }
            )+
        }
    };
}

conformance!(
    a_created_account_is_found_by_id_and_by_email,
    email_lookup_is_exact,
    a_second_account_with_the_same_email_is_a_conflict,
    concurrent_creates_with_one_email_let_exactly_one_win,
    marking_an_email_verified_sets_the_flag_and_the_update_time,
    setting_a_password_hash_replaces_the_old_one,
    unknown_ids_are_none_or_false,
    accounts_are_listed_oldest_first_in_stable_pages,
    count_counts_accounts,
    a_saved_consent_is_found_with_its_scopes_in_order,
    saving_a_consent_again_replaces_it,
    revoking_a_consent_removes_only_that_consent,
    consents_are_listed_per_account_by_client,
    a_consent_for_an_unknown_account_is_refused,
    a_scope_that_would_not_read_back_is_refused,
    stored_signing_keys_are_listed_as_inserted,
    a_second_key_with_the_same_kid_is_a_conflict,
    concurrent_inserts_of_one_kid_let_exactly_one_win,
    keys_are_listed_by_creation_time_then_kid,
    a_key_is_added_only_while_its_algorithm_has_no_active_key,
    racing_nodes_store_one_first_key_per_algorithm,
    a_rotation_stores_the_successor_and_schedules_the_retirement_of_the_signer,
    a_pending_rotation_is_not_stacked,
    concurrent_rotations_of_one_algorithm_let_exactly_one_win,
    retired_keys_are_deleted_only_once_retired_long_enough,
    an_inserted_refresh_token_is_found_with_every_field,
    a_second_refresh_token_with_the_same_hash_is_a_conflict,
    a_refresh_token_for_an_unknown_account_is_refused,
    a_list_entry_that_would_not_read_back_is_refused,
    rotation_marks_the_token_used_and_stores_its_successor,
    a_used_or_unknown_token_does_not_rotate_and_stores_nothing,
    concurrent_rotations_of_one_token_let_exactly_one_win,
    revoking_a_family_deletes_all_its_tokens_and_only_those,
    purging_removes_what_can_no_longer_be_used_and_keeps_replay_evidence,
    extending_restarts_the_idle_lifetime_of_an_unused_token_only,
    a_registered_client_is_found_with_every_field,
    a_second_registered_client_with_the_same_id_is_a_conflict,
    an_update_replaces_metadata_secret_and_time_only,
    deleting_a_client_deletes_its_tokens_and_consents_and_nothing_else,
    concurrent_registrations_of_one_id_let_exactly_one_win,
    ping_answers,
    migrating_again_applies_nothing,
);
