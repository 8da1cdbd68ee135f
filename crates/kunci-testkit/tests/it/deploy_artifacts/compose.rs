//! The docker compose trial in `deploy/`: two identical nodes after a one-shot migration, behind
//! an nginx that spreads requests over both.

use super::*;

fn compose() -> Yaml {
    load_yaml(&deploy_dir().join("docker-compose.yml")).remove(0)
}

fn compose_env<'a>(service: &'a Yaml, key: &str) -> Option<&'a str> {
    service["environment"][key].as_str()
}

#[test]
fn compose_runs_two_identical_nodes_after_a_one_shot_migration() {
    let compose = compose();
    assert!(
        compose["version"].is_badvalue(),
        "the compose spec has no version: key"
    );
    let services = &compose["services"];
    let (a, b) = (&services["kunci-a"], &services["kunci-b"]);
    assert!(a.is_hash() && b.is_hash(), "services kunci-a and kunci-b");
    let kunci_services: Vec<&str> = services
        .as_hash()
        .unwrap()
        .iter()
        .filter(|(_, s)| strings(&s["command"]) == ["serve"])
        .filter_map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(kunci_services, ["kunci-a", "kunci-b"]);

    // Same image, built from deploy/Dockerfile with the workspace as context.
    assert_eq!(a["build"], b["build"]);
    assert_eq!(a["image"], b["image"]);
    assert_eq!(a["environment"], b["environment"]);
    let context = deploy_dir().join(str_of(&a["build"]["context"], "build.context"));
    let dockerfile = context.join(str_of(&a["build"]["dockerfile"], "build.dockerfile"));
    assert!(
        dockerfile.ends_with("deploy/Dockerfile") && dockerfile.is_file(),
        "build must use deploy/Dockerfile, got {}",
        dockerfile.display()
    );
    assert!(
        context.join("Cargo.toml").is_file(),
        "build context is the workspace root"
    );

    // Shared state across nodes: Redis sessions, database-stored keys, no migration on start.
    for (key, want) in [
        ("KUNCI_LISTEN", "0.0.0.0:8080"),
        ("KUNCI_ISSUER", "http://localhost:8080"),
        ("KUNCI_SESSIONS__BACKEND", "redis"),
        ("KUNCI_KEYS__STORAGE", "database"),
        ("KUNCI_DATABASE__MIGRATE_ON_START", "false"),
    ] {
        assert_eq!(compose_env(a, key), Some(want), "kunci-a {key}");
    }
    assert!(compose_env(a, "KUNCI_DATABASE__URL").is_some_and(|u| u.starts_with("postgres://")));
    assert!(compose_env(a, "KUNCI_SESSIONS__URL").is_some_and(|u| u.starts_with("redis://")));
    let master_key = compose_env(a, "KUNCI_KEYS__MASTER_KEY").unwrap_or_default();
    assert!(
        master_key.starts_with("${KUNCI_MASTER_KEY:?"),
        "the master key must come from KUNCI_MASTER_KEY, required and without a default: {master_key:?}"
    );

    // Mounted files exist.
    for service in [a, &services["lb"]] {
        for volume in strings(&service["volumes"]) {
            if let Some(local) = volume.strip_prefix("./") {
                let local = local.split(':').next().unwrap();
                assert!(deploy_dir().join(local).is_file(), "{volume}: no such file");
            }
        }
    }

    let migrate = &services["migrate"];
    assert_eq!(strings(&migrate["command"]), ["migrate"]);
    assert_eq!(migrate["build"], a["build"]);
    assert_eq!(
        migrate["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    for node in [a, b] {
        let deps = &node["depends_on"];
        assert_eq!(
            deps["migrate"]["condition"].as_str(),
            Some("service_completed_successfully")
        );
        assert_eq!(deps["redis"]["condition"].as_str(), Some("service_healthy"));
    }

    let postgres = &services["postgres"];
    assert!(str_of(&postgres["image"], "postgres image").starts_with("postgres:15"));
    assert!(postgres["healthcheck"]["test"].as_vec().is_some());
    let redis = &services["redis"];
    assert!(str_of(&redis["image"], "redis image").starts_with("redis:7"));
    assert!(redis["healthcheck"]["test"].as_vec().is_some());
}

#[test]
fn compose_load_balancer_spreads_over_both_nodes() {
    let compose = compose();
    let lb = &compose["services"]["lb"];
    assert!(str_of(&lb["image"], "lb image").starts_with("nginx:"));
    assert!(strings(&lb["ports"]).contains(&"8080:8080"));
    assert!(
        strings(&lb["volumes"])
            .iter()
            .any(|v| v.starts_with("./nginx.conf:")),
        "the lb mounts deploy/nginx.conf"
    );

    let conf = read(&deploy_dir().join("nginx.conf"));
    let upstream = conf
        .split("upstream kunci {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("nginx.conf: an `upstream kunci { … }` block");
    let servers: Vec<&str> = upstream
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("server "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(servers, ["kunci-a:8080", "kunci-b:8080"]);
    for directive in [
        "listen 8080;",
        "proxy_pass http://kunci;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $host;",
        "proxy_next_upstream error timeout http_502 http_503;",
    ] {
        assert!(conf.contains(directive), "nginx.conf lacks `{directive}`");
    }
    assert!(
        !conf.contains("non_idempotent"),
        "POSTs (token, login) must never be retried on another node"
    );
    assert!(
        !conf.contains("ip_hash") && !conf.contains("sticky"),
        "Kunci needs no sticky sessions"
    );
}
