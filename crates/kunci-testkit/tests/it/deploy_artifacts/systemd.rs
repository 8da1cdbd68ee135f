//! `deploy/systemd/kunci.service`: an unprivileged, hardened service.

use super::*;

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
