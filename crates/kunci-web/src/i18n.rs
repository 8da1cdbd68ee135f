//! User-facing strings in Bahasa Indonesia and English, and choosing between them.
//!
//! The strings live in per-locale TOML files under `templates/i18n/`, compiled into the binary.
//! Every locale must define every key (`deny_unknown_fields` and no defaults), which a test checks.

use serde::Deserialize;

/// Every string a hosted page shows. Templates read `t.<key>`; handlers pick error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strings {
    // Layout
    pub product_name: String,
    pub language_name: String,
    pub footer_privacy: String,
    // Login
    pub login_title: String,
    pub login_intro: String,
    pub email_label: String,
    pub password_label: String,
    pub login_submit: String,
    pub login_no_account: String,
    pub register_link: String,
    pub cancel: String,
    // Registration
    pub register_title: String,
    pub register_intro: String,
    pub name_label: String,
    pub new_password_label: String,
    pub password_hint: String,
    pub register_submit: String,
    pub register_have_account: String,
    pub login_link: String,
    pub register_done_title: String,
    pub register_done_body: String,
    pub verified_title: String,
    pub verified_body: String,
    pub continue_button: String,
    // Consent
    pub consent_title: String,
    pub consent_intro: String,
    pub consent_signed_in_as: String,
    pub consent_remember: String,
    pub consent_allow: String,
    pub consent_deny: String,
    pub scope_openid: String,
    pub scope_profile: String,
    pub scope_email: String,
    pub scope_phone: String,
    pub scope_address: String,
    pub scope_offline_access: String,
    // Logout
    pub logout_title: String,
    pub logout_question: String,
    pub logout_submit: String,
    pub logged_out_title: String,
    pub logged_out_body: String,
    pub not_signed_in: String,
    pub logout_requested_by: String,
    pub logged_out_apps: String,
    pub logout_frame_title: String,
    pub logged_out_continue: String,
    // Errors
    pub error_title: String,
    pub error_generic: String,
    pub error_back_to_app: String,
    pub err_invalid_credentials: String,
    pub err_email_unverified: String,
    pub err_too_many_attempts: String,
    pub err_csrf: String,
    pub err_interaction_gone: String,
    pub err_invalid_email: String,
    pub err_invalid_name: String,
    pub err_email_taken: String,
    pub err_password_too_short: String,
    pub err_password_too_long: String,
    pub err_password_like_email: String,
    pub err_password_common: String,
    pub err_link_invalid: String,
    pub err_unavailable: String,
    pub err_bad_request: String,
    pub err_not_found: String,
    // Verification mail
    pub mail_verify_subject: String,
    pub mail_verify_body: String,
    // Device authorization (RFC 8628)
    pub device_title: String,
    pub device_intro: String,
    pub device_code_label: String,
    pub device_submit: String,
    pub device_confirm_title: String,
    pub device_confirm_intro: String,
    pub device_confirm_code: String,
    pub device_phishing_warning: String,
    pub device_approve: String,
    pub device_deny: String,
    pub device_done_title: String,
    pub device_done_body: String,
    pub device_denied_title: String,
    pub device_denied_body: String,
    pub err_device_code_invalid: String,
}

pub struct I18n {
    en: Strings,
    id: Strings,
}

/// The locales Kunci speaks, in order of preference when nothing else decides.
pub const LOCALES: [&str; 2] = ["id", "en"];

impl I18n {
    /// Parses the compiled-in locale files. Fails only if a file is broken, which tests catch.
    pub fn load() -> Result<Self, toml::de::Error> {
        Ok(Self {
            en: toml::from_str(include_str!("../../../templates/i18n/en.toml"))?,
            id: toml::from_str(include_str!("../../../templates/i18n/id.toml"))?,
        })
    }

    pub fn strings(&self, lang: &str) -> &Strings {
        if lang == "en" { &self.en } else { &self.id }
    }

    /// Picks a locale: `ui_locales` (OIDC Core §3.1.2.1) first, then `Accept-Language`, then
    /// Bahasa Indonesia, the language of most of Kunci's users.
    pub fn negotiate(ui_locales: &[String], accept_language: Option<&str>) -> &'static str {
        let pick = |tag: &str| {
            let primary = tag
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            LOCALES.into_iter().find(|l| *l == primary)
        };
        if let Some(l) = ui_locales.iter().find_map(|t| pick(t)) {
            return l;
        }
        if let Some(header) = accept_language {
            let mut ranked: Vec<(f32, &str)> = header
                .split(',')
                .filter_map(|part| {
                    let mut it = part.split(';');
                    let tag = it.next()?.trim();
                    let q = it
                        .find_map(|p| {
                            p.trim()
                                .strip_prefix("q=")
                                .and_then(|q| q.parse::<f32>().ok())
                        })
                        .unwrap_or(1.0);
                    Some((q, tag))
                })
                .collect();
            ranked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
            if let Some(l) = ranked
                .iter()
                .filter(|(q, _)| *q > 0.0)
                .find_map(|(_, t)| pick(t))
            {
                return l;
            }
        }
        LOCALES[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locale_files_define_every_string() {
        let i = I18n::load().expect("locale files parse with every key present");
        assert_ne!(i.strings("en").login_title, i.strings("id").login_title);
    }

    #[test]
    fn negotiation_order() {
        assert_eq!(I18n::negotiate(&["en-US".into()], Some("id")), "en");
        assert_eq!(
            I18n::negotiate(&["fr".into(), "id".into()], Some("en")),
            "id"
        );
        assert_eq!(I18n::negotiate(&[], Some("fr, en;q=0.8, id;q=0.5")), "en");
        assert_eq!(I18n::negotiate(&[], Some("en;q=0, id;q=0.1")), "id");
        assert_eq!(I18n::negotiate(&[], None), "id");
    }
}
