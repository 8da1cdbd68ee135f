//! The hosted pages as askama templates (files under the top-level `templates/`).
//! Every page gets `t` (the strings of its locale) and `lang` (for `<html lang>`).

use crate::i18n::Strings;
use askama::Template;
use askama_web::WebTemplate;

/// One requested scope, described in plain words.
pub struct ScopeLine<'a> {
    pub name: &'a str,
    pub description: &'a str,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub client_name: &'a str,
    pub action: &'a str,
    pub cancel_action: &'a str,
    pub register_url: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub struct RegisterPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub action: &'a str,
    /// Back to the login page of the same interaction, when there is one.
    pub login_url: Option<&'a str>,
    pub csrf: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "register_done.html")]
pub struct RegisterDonePage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub email: &'a str,
}

#[derive(Template, WebTemplate)]
#[template(path = "verified.html")]
pub struct VerifiedPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    /// Where "continue" leads: the interaction's login page, if it is still alive.
    pub continue_url: Option<&'a str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub client_name: &'a str,
    pub account_name: &'a str,
    pub account_email: &'a str,
    pub scopes: Vec<ScopeLine<'a>>,
    pub action: &'a str,
    pub csrf: &'a str,
}

#[derive(Template, WebTemplate)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    /// `None` when nobody is signed in; the page then says so instead of asking.
    pub account_name: Option<&'a str>,
    /// The relying party that asked for the logout (RP-Initiated Logout), if one did.
    pub client_name: Option<&'a str>,
    /// The relying party's parameters, carried through the form and checked again on submit.
    pub hidden: Vec<(&'static str, &'a str)>,
}

/// A front-channel logout iframe (Front-Channel Logout 1.0 §3).
pub struct LogoutFrame<'a> {
    pub url: &'a str,
    pub client_name: &'a str,
}

/// Where the logged-out page leads next: the relying party's post-logout redirect URI.
pub struct ContinueLink<'a> {
    pub url: &'a str,
    pub client_name: &'a str,
}

#[derive(Template, WebTemplate)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub frames: Vec<LogoutFrame<'a>>,
    /// Followed by a `<meta http-equiv="refresh">` once the frames had time to load.
    pub continue_to: Option<ContinueLink<'a>>,
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub t: &'a Strings,
    pub lang: &'a str,
    pub message: &'a str,
    /// The OAuth error code, shown small for support staff (never internal detail).
    pub code: Option<&'a str>,
    /// The core's public description of the error, for the app's developer (in English).
    pub detail: Option<&'a str>,
}
