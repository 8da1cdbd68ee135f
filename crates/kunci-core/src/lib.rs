//! # kunci-core
//!
//! The protocol: OAuth 2.0 and OpenID Connect rules, tokens, keys, the login interaction and
//! the ports storage implements. It does no I/O of its own, reads no clock (time is passed
//! in), and knows no web framework: handlers parse HTTP, call in here, and map the outcome.

pub mod account;
pub mod authorize;
pub mod claims;
pub mod claims_request;
pub mod client;
pub mod client_assertion;
pub mod clock;
pub mod code;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod fapi2;
pub mod flow;
pub mod foreign_jws;
pub mod interaction;
pub mod jose;
pub mod logout;
pub mod pkce;
pub mod ports;
pub mod records;
pub mod registration;
pub mod scope;
pub mod sealing;
pub mod secret;
pub mod sso;
pub mod subject;
pub mod token_exchange;
pub mod uri_rules;

pub use clock::{Clock, ManualClock, UnixTime};
pub use error::{ErrorCode, OAuthError, PortError};
pub use flow::{Provider, Settings};
