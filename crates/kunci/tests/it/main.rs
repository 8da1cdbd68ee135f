//! The `kunci` binary as an operator uses it: each test runs the real executable in its own
//! temporary working directory, with a configuration file the test writes.

mod support;

mod check_config;
mod client_secret;
mod keys_cli;
mod migrate;
mod serve;
mod token_settings;
mod users;
