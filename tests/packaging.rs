//! The packaging examples: the systemd service and timer pass `systemd-analyze verify`, and the
//! Dockerfile keeps its shape (a builder stage with a locked release build, a slim runtime stage
//! run by a non-root user). No container engine runs where these tests run, so the image itself
//! is not built here.

use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Whether `systemd-analyze` can run. In CI (`CI` set) it must.
fn have_systemd_analyze() -> bool {
    let ok = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("systemd-analyze is required in CI (apt-get install systemd)");
    }
    if !ok {
        eprintln!("systemd-analyze not found: skipping the systemd unit check");
    }
    ok
}

#[test]
fn systemd_units_verify() {
    if !have_systemd_analyze() {
        return;
    }
    let dir = repo("scripts/systemd");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.join("kls-rec-backfill.service"))
        .arg(dir.join("kls-rec-backfill.timer"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // Unknown keys are only warned about: any message is a finding.
    assert!(stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");
}

#[test]
fn the_timer_starts_the_service_the_readme_names() {
    let timer = std::fs::read_to_string(repo("scripts/systemd/kls-rec-backfill.timer")).unwrap();
    assert!(timer.contains("OnCalendar=*-*-* *:15:00"), "{timer}");
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    assert!(readme.contains("scripts/systemd/kls-rec-backfill.timer"));
}

#[test]
fn dockerfile_is_multi_stage_locked_slim_and_unprivileged() {
    let text = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a builder and a runtime stage: {froms:?}");
    assert!(froms[0].ends_with(" AS builder"), "{froms:?}");
    assert!(
        froms[1].starts_with("FROM debian:bookworm-slim"),
        "{froms:?}"
    );
    assert!(text.contains("cargo build --release --locked"));
    assert!(text.contains("ca-certificates"));
    let user = lines.iter().rev().find(|l| l.starts_with("USER ")).unwrap();
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
    assert!(lines.contains(&r#"ENTRYPOINT ["kls-rec"]"#));
    let ignore = std::fs::read_to_string(repo(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*") && ignore.contains("!src/"));
}
