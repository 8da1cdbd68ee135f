//! End-to-end tests: a real Kunci over real HTTP, driven by an independent relying party
//! (the `openidconnect` crate) and a cookie-holding client that walks the hosted pages.

mod support;

mod rp_flow;
