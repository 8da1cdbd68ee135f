//! Authorization codes in each ephemeral backend: issue (`put` with a TTL) and redeem (`take`,
//! atomic), plus the fixed-window counter every login increments. The value is a realistic
//! encoded code record (about 450 bytes). Run with `cargo bench -p kunci-session`; the Redis
//! group runs when `KUNCI_TEST_REDIS_URL` is set, under a fresh key prefix it leaves empty.

use criterion::{Criterion, criterion_group, criterion_main};
use kunci_core::ManualClock;
use kunci_core::ports::EphemeralStore;
use kunci_core::secret::{random_token, token_key};
use kunci_session::{MemoryStore, RedisConfig, RedisStore};
use std::hint::black_box;
use std::sync::Arc;

/// What `Records::put_code` stores, in size and shape.
const CODE_RECORD: &str = r#"{"v":1,"d":{"client_id":"shop-web","redirect_uri":"https://shop.example.co.id/auth/callback","scopes":["openid","profile","email"],"nonce":"n-0S6_WzA2Mj","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","account_id":"0190f3c2-5a8e-7c41-9d2b-7f0e3a1c6b55","session_id":"08a5019c17e149778f4265a12843ea0208a5019c17e1","auth_time":1899999000,"amr":["pwd"],"issued_at":1900000000,"grant_id":"0190f3c2-5a8e-7c41-9d2b-7f0e3a1c6b56"}}"#;

fn bench_store(
    c: &mut Criterion,
    name: &str,
    rt: &tokio::runtime::Runtime,
    store: Arc<dyn EphemeralStore>,
) {
    let mut g = c.benchmark_group(format!("codes/{name}"));
    g.bench_function("put_then_take", |b| {
        b.to_async(rt).iter(|| {
            let store = store.clone();
            async move {
                let key = format!("code:{}", token_key(&random_token()));
                store
                    .put(&key, CODE_RECORD.as_bytes(), 60)
                    .await
                    .expect("put");
                black_box(store.take(&key).await.expect("take").expect("present"))
            }
        })
    });
    g.bench_function("take_missing", |b| {
        b.to_async(rt).iter(|| {
            let store = store.clone();
            async move { black_box(store.take("code:missing").await.expect("take")) }
        })
    });
    g.bench_function("incr_counter", |b| {
        b.to_async(rt).iter(|| {
            let store = store.clone();
            async move { black_box(store.incr("rl:bench", 60).await.expect("incr")) }
        })
    });
    g.finish();
    rt.block_on(async { store.delete("rl:bench").await.expect("delete counter") });
}

fn codes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let memory: Arc<dyn EphemeralStore> =
        Arc::new(MemoryStore::new(Arc::new(ManualClock::new(1_900_000_000))));
    bench_store(c, "memory", &rt, memory);
    match std::env::var("KUNCI_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => {
            let mut cfg = RedisConfig::new(url);
            cfg.key_prefix = format!("kunci-bench:{}:", random_token());
            let redis = rt
                .block_on(RedisStore::connect(&cfg))
                .expect("connect to Redis");
            bench_store(c, "redis", &rt, Arc::new(redis));
        }
        None => println!("skipped: codes/redis (KUNCI_TEST_REDIS_URL not set)"),
    }
}

criterion_group!(benches, codes);
criterion_main!(benches);
