//! Rules for account data that every entry point shares (registration, CLI, login).

/// Trims and lower-cases an email so one mailbox maps to one account.
/// Returns `None` unless it looks like `local@domain` with a dot in the domain.
pub fn normalize_email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(e)
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
pub fn normalize_name(raw: &str) -> Option<String> {
    let n = raw.trim();
    let ok = !n.is_empty() && n.chars().count() <= 200 && !n.chars().any(char::is_control);
    ok.then(|| n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email("  Ayu@Example.COM ").as_deref(),
            Some("ayu@example.com")
        );
        assert!(normalize_email("no-at-sign").is_none());
        assert!(normalize_email("a@localhost").is_none());
        assert!(normalize_email("a b@example.com").is_none());
        assert!(normalize_email("@example.com").is_none());
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("  Budi ").as_deref(), Some("Budi"));
        assert!(normalize_name("   ").is_none());
        assert!(normalize_name("a\u{0}b").is_none());
    }
}
