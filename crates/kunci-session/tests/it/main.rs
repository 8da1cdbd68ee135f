//! The one integration-test binary of `kunci-session`.
//!
//! - `conformance`: the behaviour every `EphemeralStore` backend must show, written once.
//! - `memory`: the suite against `MemoryStore` with a manual clock (always runs).
//! - `redis_shared`: the suite and Redis-specific checks against `KUNCI_TEST_REDIS_URL`
//!   (skipped with one line when unset, unless `KUNCI_TEST_REQUIRE_ALL=1`).
//! - `redis_faults`: kills and restarts a test-owned `redis-server` to check that the store
//!   fails fast and heals by itself (skipped when `redis-server` is not on PATH).
//! - `redis_topologies`: the suite through Sentinel (including a failover) and Cluster, on
//!   test-owned servers (skipped when `redis-server` is not on PATH).
//! - `redis_harness`: the suite's harness for `RedisStore`, shared by the Redis modules.
//! - `support`: skip rules, the owned servers, key clean-up.

mod conformance;
mod memory;
mod redis_faults;
mod redis_harness;
mod redis_shared;
mod redis_topologies;
mod support;
