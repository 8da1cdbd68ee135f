//! End-to-end tests: a real Kunci over real HTTP, driven by an independent relying party
//! (the `openidconnect` crate) and a cookie-holding client that walks the hosted pages.

mod grants;
mod jwt;
mod support;

mod browser_device;
mod browser_pages;
mod deploy_artifacts;

mod authorize_errors;
mod authorize_success;
mod claims_param;
mod client_credentials;
mod client_jwt;
mod client_registration;
mod device;
mod discovery;
mod dpop;
mod fapi2;
mod faults;
mod hostile_input;
mod introspection;
mod jar;
mod key_rotation;
mod logout;
mod oauth2_client;
mod pages;
mod pairwise;
mod par;
mod prompts;
mod refresh;
mod registration;
mod revocation;
mod rp_flow;
mod shared_keys;
mod sso;
mod token_errors;
mod token_exchange;
mod token_response;
mod two_nodes;
mod userinfo;
