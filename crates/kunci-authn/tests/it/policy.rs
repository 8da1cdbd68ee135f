//! The rules a new password must meet, one test per reason.

use kunci_authn::{PasswordPolicy, PasswordRejection, check_new_password};

const EMAIL: &str = "Budi.Santoso@Example.co.id";

#[test]
fn a_long_uncommon_password_is_accepted() {
    assert_eq!(
        check_new_password("tiga kucing di atas genteng", EMAIL),
        Ok(())
    );
    assert_eq!(check_new_password("x7#Lq!m2", EMAIL), Ok(()));
}

#[test]
fn fewer_than_eight_characters_is_too_short() {
    assert_eq!(
        check_new_password("x7#Lq!m", EMAIL),
        Err(PasswordRejection::TooShort { min_chars: 8 })
    );
    assert_eq!(
        check_new_password("", EMAIL),
        Err(PasswordRejection::TooShort { min_chars: 8 })
    );
}

#[test]
fn length_is_counted_in_characters_not_bytes() {
    // Seven characters, fourteen bytes.
    assert_eq!(
        check_new_password("ééééééé", EMAIL),
        Err(PasswordRejection::TooShort { min_chars: 8 })
    );
    assert_eq!(check_new_password("éééééééé", EMAIL), Ok(()));
}

#[test]
fn more_than_1024_bytes_is_too_long() {
    let at_limit = "abcd".repeat(256);
    assert_eq!(check_new_password(&at_limit, EMAIL), Ok(()));
    assert_eq!(
        check_new_password(&format!("{at_limit}e"), EMAIL),
        Err(PasswordRejection::TooLong { max_bytes: 1024 })
    );
    // 600 two-byte characters: few characters, too many bytes.
    assert_eq!(
        check_new_password(&"é".repeat(600), EMAIL),
        Err(PasswordRejection::TooLong { max_bytes: 1024 })
    );
}

#[test]
fn the_email_address_or_its_local_part_is_refused_whatever_the_case() {
    for password in [
        "budi.santoso@example.co.id",
        "BUDI.SANTOSO@EXAMPLE.CO.ID",
        "Budi.Santoso",
        "budi.santoso",
    ] {
        assert_eq!(
            check_new_password(password, EMAIL),
            Err(PasswordRejection::SameAsEmail),
            "{password}"
        );
    }
    // Containing the local part is allowed; only equality is refused.
    assert_eq!(
        check_new_password("budi.santoso likes durian", EMAIL),
        Ok(())
    );
}

#[test]
fn a_commonly_used_password_is_refused_whatever_the_case() {
    for password in [
        "password",
        "Password123",
        "12345678",
        "qwertyuiop",
        "iloveyou",
        "Bismillah",
    ] {
        assert_eq!(
            check_new_password(password, EMAIL),
            Err(PasswordRejection::TooCommon),
            "{password}"
        );
    }
}

#[test]
fn a_stricter_policy_applies_its_own_bounds() {
    let policy = PasswordPolicy {
        min_chars: 12,
        max_bytes: 64,
        ..PasswordPolicy::default()
    };
    assert_eq!(
        policy.check_new_password("x7#Lq!m2abc", EMAIL),
        Err(PasswordRejection::TooShort { min_chars: 12 })
    );
    assert_eq!(
        policy.check_new_password(&"z".repeat(65), EMAIL),
        Err(PasswordRejection::TooLong { max_bytes: 64 })
    );
    assert_eq!(policy.check_new_password("x7#Lq!m2abcd", EMAIL), Ok(()));
}

#[test]
fn every_reason_has_its_own_stable_code() {
    let codes = [
        PasswordRejection::TooShort { min_chars: 8 }.code(),
        PasswordRejection::TooLong { max_bytes: 1024 }.code(),
        PasswordRejection::SameAsEmail.code(),
        PasswordRejection::TooCommon.code(),
    ];
    assert_eq!(
        codes,
        [
            "password_too_short",
            "password_too_long",
            "password_same_as_email",
            "password_too_common"
        ]
    );
}
