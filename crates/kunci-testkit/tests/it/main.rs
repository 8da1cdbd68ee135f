//! End-to-end tests: a real Kunci over real HTTP, driven by an independent relying party
//! (the `openidconnect` crate) and a cookie-holding client that walks the hosted pages.

mod jwt;
mod support;

mod browser_pages;
mod deploy_artifacts;

mod authorize_errors;
mod faults;
mod rp_flow;
mod shared_keys;
mod sso;
mod token_errors;
mod token_response;
mod userinfo;
