//! Lint of the deployment artefacts in `deploy/` and `docs/deployment.md`.
//!
//! No Docker engine or Kubernetes runs in CI, so these files are checked by construction: every
//! YAML file parses, the Kubernetes objects point at each other correctly (Service and PDB
//! select the Deployment's pods, the HPA targets it, probes hit the real endpoints), the compose
//! trial really runs two identical nodes behind a load balancer that knows both, the Dockerfile
//! builds the way the README does and runs as non-root, the systemd unit is hardened, and the
//! ConfigMap's `kunci.toml` is accepted by Kunci's own configuration loader. One submodule per
//! artefact; the YAML helpers and the check that the guide explains every variable stay here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlLoader};

mod compose;
mod dockerfile;
mod kubernetes;
mod systemd;

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
