//! `deploy/Dockerfile` and `.dockerignore`: the image builds the way the README does, runs as
//! non-root, and the build context keeps local state out.

use super::*;

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
