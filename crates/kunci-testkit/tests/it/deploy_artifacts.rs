//! Lint of the deployment artefacts in `deploy/` and `docs/deployment.md`.
//!
//! No Docker engine or Kubernetes runs in CI, so these files are checked by construction: every
//! YAML file parses, the Kubernetes objects point at each other correctly (Service and PDB
//! select the Deployment's pods, the HPA targets it, probes hit the real endpoints), the compose
//! trial really runs two identical nodes behind a load balancer that knows both, the Dockerfile
//! builds the way the README does and runs as non-root, the systemd unit is hardened, and the
//! ConfigMap's `kunci.toml` is accepted by Kunci's own configuration loader.

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use kunci::config::{Config, SessionBackend};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlLoader};

/// The port the image listens on (`KUNCI_LISTEN=0.0.0.0:8080`).
const PORT: i64 = 8080;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every document of a YAML file, with `<<` merge keys applied (compose uses them).
fn load_yaml(path: &Path) -> Vec<Yaml> {
    let docs = YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    docs.into_iter()
        .filter(|d| !d.is_badvalue() && !d.is_null())
        .map(apply_merge_keys)
        .collect()
}

/// The YAML 1.1 merge key (`<<: *anchor`): explicit keys win over merged ones.
fn apply_merge_keys(node: Yaml) -> Yaml {
    match node {
        Yaml::Hash(hash) => {
            let mut out = Hash::new();
            let mut merged = Vec::new();
            for (key, value) in hash {
                let value = apply_merge_keys(value);
                if key.as_str() == Some("<<") {
                    match value {
                        Yaml::Array(sources) => merged.extend(sources),
                        source => merged.push(source),
                    }
                } else {
                    out.insert(key, value);
                }
            }
            for source in merged {
                let Yaml::Hash(source) = source else {
                    panic!("a << merge key must name a mapping, got {source:?}");
                };
                for (key, value) in source {
                    out.entry(key).or_insert(value);
                }
            }
            Yaml::Hash(out)
        }
        Yaml::Array(items) => Yaml::Array(items.into_iter().map(apply_merge_keys).collect()),
        other => other,
    }
}

fn yaml_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn str_of<'a>(node: &'a Yaml, what: &str) -> &'a str {
    node.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {node:?}"))
}

fn strings(node: &Yaml) -> Vec<&str> {
    node.as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

/// A mapping's string keys and string values, e.g. labels.
fn string_map(node: &Yaml) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = node
        .as_hash()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

fn k8s_dir() -> PathBuf {
    deploy_dir().join("k8s")
}

/// The single object of kind `kind` among all manifests in `deploy/k8s`.
fn k8s_object(kind: &str) -> Yaml {
    let mut found: Vec<Yaml> = yaml_files_under(&k8s_dir())
        .iter()
        .flat_map(|p| load_yaml(p))
        .filter(|d| d["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind} in deploy/k8s");
    found.remove(0)
}

fn deployment_container(deployment: &Yaml) -> &Yaml {
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_vec()
        .expect("Deployment: spec.template.spec.containers");
    containers
        .iter()
        .find(|c| c["name"].as_str() == Some("kunci"))
        .expect("Deployment: a container named kunci")
}

/// A probe or Service port given as a number, or as the name of one of the container's ports.
fn resolve_port(container: &Yaml, port: &Yaml) -> i64 {
    if let Some(n) = port.as_i64() {
        return n;
    }
    let name = str_of(port, "port");
    container["ports"]
        .as_vec()
        .into_iter()
        .flatten()
        .find(|p| p["name"].as_str() == Some(name))
        .and_then(|p| p["containerPort"].as_i64())
        .unwrap_or_else(|| panic!("port name {name:?} is not a port of the kunci container"))
}

fn assert_http_probe(container: &Yaml, probe: &str, path: &str) {
    let get = &container[probe]["httpGet"];
    assert_eq!(get["path"].as_str(), Some(path), "{probe} must GET {path}");
    assert_eq!(
        resolve_port(container, &get["port"]),
        PORT,
        "{probe} must use port {PORT}"
    );
}

#[test]
fn every_yaml_file_under_deploy_parses() {
    let files = yaml_files_under(&deploy_dir());
    assert!(
        files.len() >= 9,
        "expected the compose file and the k8s manifests, found {files:?}"
    );
    for file in files {
        assert!(
            !load_yaml(&file).is_empty(),
            "{} has no YAML document",
            file.display()
        );
    }
}

#[test]
fn every_k8s_object_has_api_version_kind_and_name() {
    for file in yaml_files_under(&k8s_dir()) {
        for doc in load_yaml(&file) {
            let f = file.display();
            assert!(doc["apiVersion"].as_str().is_some(), "{f}: no apiVersion");
            let kind = doc["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{f}: no kind"));
            if kind == "Kustomization" {
                continue;
            }
            let name = doc["metadata"]["name"].as_str().unwrap_or_default();
            assert!(!name.is_empty(), "{f}: {kind} without metadata.name");
            if kind != "Namespace" {
                assert_eq!(
                    doc["metadata"]["namespace"].as_str(),
                    Some("kunci"),
                    "{f}: {kind} {name} belongs in namespace kunci"
                );
            }
        }
    }
}

#[test]
fn kustomization_lists_every_manifest_but_the_secret_template() {
    let kustomization = &load_yaml(&k8s_dir().join("kustomization.yaml"))[0];
    assert_eq!(kustomization["kind"].as_str(), Some("Kustomization"));
    let listed: BTreeSet<&str> = strings(&kustomization["resources"]).into_iter().collect();
    let present: BTreeSet<String> = yaml_files_under(&k8s_dir())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "kustomization.yaml" && n != "secret.example.yaml")
        .collect();
    let present: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    assert_eq!(
        listed, present,
        "kustomization.yaml resources must be exactly the manifests in deploy/k8s"
    );
    assert!(
        !listed.contains("secret.example.yaml"),
        "the Secret template must never be applied over the real Secret"
    );

    // An `images:` override whose name matches no image silently does nothing.
    let deployment = k8s_object("Deployment");
    let image = str_of(&deployment_container(&deployment)["image"], "image");
    let repository = image.rsplit_once(':').map_or(image, |(repo, _)| repo);
    for entry in kustomization["images"].as_vec().into_iter().flatten() {
        assert_eq!(
            entry["name"].as_str(),
            Some(repository),
            "kustomization images[].name must be the Deployment's image"
        );
    }
}

#[test]
fn deployment_probes_serve_as_non_root_and_reads_the_secret() {
    let deployment = k8s_object("Deployment");
    let spec = &deployment["spec"];
    assert!(
        spec["replicas"].as_i64().unwrap_or(1) >= 2,
        "at least 2 replicas"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(
        pod["securityContext"]["runAsNonRoot"].as_bool(),
        Some(true),
        "pod securityContext.runAsNonRoot"
    );
    assert_ne!(pod["securityContext"]["runAsUser"].as_i64(), Some(0));

    let container = deployment_container(&deployment);
    let image = str_of(&container["image"], "image");
    let args = strings(&container["args"]);
    let command = strings(&container["command"]);
    assert!(
        args.contains(&"serve") || command.contains(&"serve"),
        "the container must run `kunci serve` (image {image}, args {args:?})"
    );
    assert!(
        container["ports"]
            .as_vec()
            .into_iter()
            .flatten()
            .any(|p| p["containerPort"].as_i64() == Some(PORT)),
        "container port {PORT}"
    );
    assert_http_probe(container, "livenessProbe", "/healthz");
    assert_http_probe(container, "readinessProbe", "/readyz");
    assert_http_probe(container, "startupProbe", "/healthz");

    let sc = &container["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);

    // The read-only root needs a writable data_dir.
    let data_mount = container["volumeMounts"]
        .as_vec()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"].as_str() == Some("/var/lib/kunci"))
        .expect("a volume mounted at /var/lib/kunci");
    let data_volume = pod["volumes"]
        .as_vec()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == data_mount["name"])
        .expect("the /var/lib/kunci volume is declared");
    assert!(
        data_volume["emptyDir"].is_hash(),
        "/var/lib/kunci is an emptyDir"
    );

    let resources = &container["resources"];
    for key in ["cpu", "memory"] {
        assert!(
            resources["requests"][key].as_str().is_some(),
            "requests.{key}"
        );
    }
    assert!(
        resources["limits"]["memory"].as_str().is_some(),
        "limits.memory"
    );

    let env = env_of(container);
    assert_eq!(
        env.iter()
            .find(|(k, _)| k == "KUNCI_DATABASE__MIGRATE_ON_START")
            .map(|(_, v)| v.as_str()),
        Some("false"),
        "nodes must not migrate on start (the Job does)"
    );
    assert_eq!(secret_refs(container), ["kunci-secrets"]);
}

fn env_of(container: &Yaml) -> Vec<(String, String)> {
    container["env"]
        .as_vec()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                str_of(&e["name"], "env name").to_owned(),
                e["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn secret_refs(container: &Yaml) -> Vec<&str> {
    container["envFrom"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|e| e["secretRef"]["name"].as_str())
        .collect()
}

#[test]
fn migrate_job_runs_kunci_migrate_from_the_same_image() {
    let job = k8s_object("Job");
    let deployment = k8s_object("Deployment");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    assert_eq!(strings(&container["args"]), ["migrate"]);
    assert_eq!(
        container["image"],
        deployment_container(&deployment)["image"],
        "the Job must migrate with the image the Deployment runs"
    );
    assert_eq!(secret_refs(container), ["kunci-secrets"]);
}

#[test]
fn service_and_pdb_select_the_deployment_pods() {
    let deployment = k8s_object("Deployment");
    let pod_labels = string_map(&deployment["spec"]["template"]["metadata"]["labels"]);
    assert_eq!(
        string_map(&deployment["spec"]["selector"]["matchLabels"]),
        pod_labels,
        "the Deployment's selector must match its pod labels"
    );
    let selects = |selector: Vec<(String, String)>, who: &str| {
        assert!(!selector.is_empty(), "{who} has an empty selector");
        for pair in &selector {
            assert!(
                pod_labels.contains(pair),
                "{who} selects {pair:?}, which the Deployment's pods do not carry"
            );
        }
    };

    let service = k8s_object("Service");
    selects(string_map(&service["spec"]["selector"]), "the Service");
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["port"].as_i64(), Some(80));
    assert_eq!(
        resolve_port(deployment_container(&deployment), &port["targetPort"]),
        PORT
    );
    assert_eq!(service["spec"]["type"].as_str(), Some("ClusterIP"));

    let pdb = k8s_object("PodDisruptionBudget");
    selects(
        string_map(&pdb["spec"]["selector"]["matchLabels"]),
        "the PodDisruptionBudget",
    );
    assert_eq!(pdb["spec"]["minAvailable"].as_i64(), Some(1));
}

#[test]
fn hpa_scales_the_deployment_on_cpu() {
    let deployment = k8s_object("Deployment");
    let hpa = k8s_object("HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"].as_str(), Some("autoscaling/v2"));
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["kind"].as_str(), Some("Deployment"));
    assert_eq!(target["apiVersion"].as_str(), Some("apps/v1"));
    assert_eq!(target["name"], deployment["metadata"]["name"]);
    assert_eq!(hpa["spec"]["minReplicas"].as_i64(), Some(2));
    assert_eq!(hpa["spec"]["maxReplicas"].as_i64(), Some(10));
    let metric = &hpa["spec"]["metrics"][0]["resource"];
    assert_eq!(metric["name"].as_str(), Some("cpu"));
    assert_eq!(metric["target"]["averageUtilization"].as_i64(), Some(70));
}

#[test]
fn secret_template_holds_placeholders_for_every_secret_setting() {
    let secret = k8s_object("Secret");
    assert_eq!(
        secret["metadata"]["name"].as_str(),
        Some("kunci-secrets"),
        "the name the Deployment and Job read"
    );
    let data = string_map(&secret["stringData"]);
    let keys: Vec<&str> = data.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "KUNCI_DATABASE__URL",
            "KUNCI_KEYS__MASTER_KEY",
            "KUNCI_SESSIONS__URL"
        ]
    );
    for (key, value) in &data {
        assert!(
            value.contains("CHANGE-ME"),
            "{key} in the template must be an obvious placeholder"
        );
    }
}

#[test]
fn configmap_kunci_toml_is_accepted_by_kunci() {
    let configmap = k8s_object("ConfigMap");
    let toml = str_of(&configmap["data"]["kunci.toml"], "data.kunci.toml");
    // Config::load's layering minus the process environment, which is the developer's, not the
    // pod's: built-in defaults, then the file, then the same eager validation.
    let config: Config = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string(toml))
        .extract()
        .unwrap_or_else(|e| panic!("the ConfigMap's kunci.toml is rejected: {e}"));
    config
        .validate()
        .unwrap_or_else(|e| panic!("the ConfigMap's kunci.toml is invalid: {e:#}"));
    assert!(config.issuer.starts_with("https://"));
    assert_eq!(config.listen, "0.0.0.0:8080");
    assert_eq!(config.data_dir, Path::new("/var/lib/kunci"));
    assert!(!config.database.migrate_on_start);
    assert_eq!(config.sessions.backend, SessionBackend::Redis);
}

// ---------------------------------------------------------------------------------------------
// docker compose + nginx

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

// ---------------------------------------------------------------------------------------------
// Dockerfile

/// `(INSTRUCTION, arguments)` with continuation lines joined and comments dropped.
fn dockerfile_instructions() -> Vec<(String, String)> {
    let text = read(&deploy_dir().join("Dockerfile"));
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (op, args) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((op.to_ascii_uppercase(), args.trim().to_owned()));
        current.clear();
    }
    out
}

#[test]
fn dockerfile_builds_like_the_readme_and_runs_as_non_root() {
    let instructions = dockerfile_instructions();
    let all = |op: &str| -> Vec<&str> {
        instructions
            .iter()
            .filter(|(o, _)| o == op)
            .map(|(_, a)| a.as_str())
            .collect()
    };

    let froms = all("FROM");
    assert!(froms.len() >= 2, "a multi-stage build");
    assert!(
        froms[0].starts_with("rust:") && froms[0].contains("-bookworm"),
        "builder on rust:*-bookworm, got {}",
        froms[0]
    );
    // The builder's toolchain must satisfy the workspace's rust-version.
    let toolchain = all("ARG")
        .iter()
        .find_map(|a| a.strip_prefix("RUST_VERSION="))
        .expect("ARG RUST_VERSION=…");
    let workspace = read(&repo_root().join("Cargo.toml"));
    let msrv = workspace
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"'))
        .expect("rust-version in the workspace Cargo.toml");
    let version = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap()).collect() };
    assert!(
        version(toolchain) >= version(msrv),
        "toolchain {toolchain} is older than rust-version {msrv}"
    );

    assert!(
        all("RUN")
            .iter()
            .any(|r| r.contains("cargo build --release -p kunci --locked")),
        "the build command must be the README's `cargo build --release -p kunci`, plus --locked"
    );
    let readme = read(&repo_root().join("README.md"));
    assert!(
        readme.contains("cargo run --release -p kunci")
            || readme.contains("cargo build --release -p kunci"),
        "the README no longer builds with `--release -p kunci`: update deploy/Dockerfile to match"
    );

    // Runtime stage: non-root, either by distroless :nonroot or by a USER that is not root.
    let runtime = froms.last().unwrap();
    let last_stage_start = instructions.iter().rposition(|(o, _)| o == "FROM").unwrap();
    let user = instructions[last_stage_start..]
        .iter()
        .rfind(|(o, _)| o == "USER")
        .map(|(_, a)| a.as_str());
    let root = |u: &str| matches!(u.split(':').next(), Some("root" | "0"));
    match user {
        Some(u) => assert!(!root(u), "runtime USER {u} is root"),
        None => assert!(runtime.contains(":nonroot"), "runtime runs as root"),
    }

    let entrypoint = all("ENTRYPOINT");
    assert_eq!(entrypoint, [r#"["/usr/local/bin/kunci"]"#]);
    assert_eq!(all("CMD"), [r#"["serve"]"#]);
    assert!(all("EXPOSE").contains(&"8080"));
    let env = all("ENV").join(" ");
    assert!(
        env.contains("KUNCI_LISTEN=0.0.0.0:8080"),
        "ENV KUNCI_LISTEN"
    );
    assert!(
        env.contains("KUNCI_DATA_DIR=/var/lib/kunci"),
        "ENV KUNCI_DATA_DIR"
    );
    assert!(all("VOLUME").iter().any(|v| v.contains("/var/lib/kunci")));
}

#[test]
fn dockerignore_keeps_local_state_out_but_the_embedded_assets_in() {
    let ignore = read(&repo_root().join(".dockerignore"));
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for must in ["target/", "data/", ".git", "**/node_modules/"] {
        assert!(patterns.contains(&must), ".dockerignore lacks {must}");
    }
    // include_str!/embed_migrations! read these at build time.
    for needed in ["templates", "static", "migrations", "crates", "Cargo.lock"] {
        assert!(
            !patterns.iter().any(|p| p.trim_end_matches('/') == needed),
            ".dockerignore must not exclude {needed}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// systemd

#[test]
fn systemd_unit_serves_as_an_unprivileged_hardened_user() {
    let unit = read(&deploy_dir().join("systemd/kunci.service"));
    let mut section = String::new();
    let mut service: Vec<(String, String)> = Vec::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("kunci.service: not key=value: {line}"));
        if section == "[Service]" {
            service.push((key.to_owned(), value.to_owned()));
        }
    }
    let get = |key: &str| -> Vec<&str> {
        service
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let exec = get("ExecStart");
    assert_eq!(exec.len(), 1, "one ExecStart=");
    assert!(
        exec[0].starts_with("/usr/local/bin/kunci ") && exec[0].ends_with(" serve"),
        "ExecStart runs `kunci … serve`: {}",
        exec[0]
    );
    let user = get("User");
    assert!(
        matches!(user.as_slice(), [u] if !u.is_empty() && *u != "root"),
        "User= must name an unprivileged user"
    );
    for (key, value) in [
        ("Restart", "on-failure"),
        ("StateDirectory", "kunci"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("MemoryDenyWriteExecute", "yes"),
        ("Environment", "KUNCI_DATA_DIR=/var/lib/kunci"),
    ] {
        assert!(
            get(key).contains(&value),
            "kunci.service [Service] lacks {key}={value}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// docs

/// Every `KUNCI_…` variable the artefacts set must be explained in docs/deployment.md.
#[test]
fn deployment_guide_explains_every_variable_the_artefacts_set() {
    let guide = read(&repo_root().join("docs/deployment.md"));
    let mut files = yaml_files_under(&deploy_dir());
    files.push(deploy_dir().join("Dockerfile"));
    files.push(deploy_dir().join("systemd/kunci.service"));
    let mut missing = BTreeSet::new();
    for file in files {
        let text = read(&file);
        for (i, _) in text.match_indices("KUNCI_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let name = name.trim_end_matches('_');
            if !guide.contains(name) {
                missing.insert(name.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/deployment.md does not mention {missing:?}"
    );
}
