//! The Kubernetes manifests in `deploy/k8s/`: objects point at each other, probes hit the real
//! endpoints, the pods run as non-root, and the ConfigMap's `kunci.toml` loads.

use super::*;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use kunci::config::{Config, SessionBackend};

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
