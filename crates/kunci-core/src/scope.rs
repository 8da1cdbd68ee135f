//! Scopes: parsing the space-separated list (RFC 6749 §3.3) and the OIDC standard scopes
//! with the claims each one releases (OIDC Core §5.4).

/// The scopes Kunci understands. A client may be allowed any subset.
pub const KNOWN_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// Claims released by each standard scope (OIDC Core §5.4).
pub fn claims_for_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "phone" => &["phone_number", "phone_number_verified"],
        "address" => &["address"],
        _ => &[],
    }
}

/// Splits a scope parameter into distinct tokens, keeping first-seen order.
/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). Returns `None` on a bad character.
pub fn parse(raw: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for token in raw.split(' ').filter(|t| !t.is_empty()) {
        let valid = token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            return None;
        }
        if !out.iter().any(|s| s == token) {
            out.push(token.to_owned());
        }
    }
    Some(out)
}

/// Joins scopes back into the wire form.
pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// True when every scope in `wanted` is in `granted`.
pub fn covers(granted: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| granted.iter().any(|g| g == w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_deduplicates() {
        assert_eq!(
            parse("openid  email openid").unwrap(),
            vec!["openid", "email"]
        );
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert!(parse("open\"id").is_none());
        assert!(parse("a\\b").is_none());
    }

    #[test]
    fn coverage() {
        let g = vec!["openid".to_string(), "email".to_string()];
        assert!(covers(&g, &["email".to_string()]));
        assert!(!covers(&g, &["profile".to_string()]));
    }
}
