//! `icc policy apply` validates the document before any network call: with no node reachable it
//! still names each error's line and rule, and a valid file passes `--check` offline.

use std::process::Command;

const TEMPLATE: &str = include_str!("../../deploy/local/policy.yaml");

fn icc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_icc"))
        // Port 9 (discard): nothing answers there, so any network call would fail.
        .args(["--endpoints", "127.0.0.1:9", "--insecure-plaintext"])
        .args(args)
        .env_remove("ICC_CONFIG")
        .env_remove("ICC_ENDPOINTS")
        .output()
        .expect("run icc")
}

#[test]
fn a_bad_policy_is_refused_with_its_lines_before_any_network_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("policy.yaml");
    let text = TEMPLATE.replacen("resolve: 24h", "resolve: 0", 1).replacen(
        "some-customers: sev4",
        "some-customers: sev0",
        1,
    );
    std::fs::write(&bad, &text).expect("write");
    let path = bad.display().to_string();
    let out = icc(&["policy", "apply", "-f", &path, "--reason", "test"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).expect("line") + 1;
    for expected in [
        format!(
            "{path} line {}: levels.sev2.resolve: must be a positive duration (zero or negative given)",
            line_of("resolve: 0")
        ),
        format!(
            "{path} line {}: matrix.minor.some-customers: unknown severity \"sev0\"; one of sev1, sev2, sev3, sev4",
            line_of("sev0")
        ),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("unavailable") && !stderr.contains("connect"),
        "no network call was made: {stderr}"
    );

    let good = dir.path().join("good.yaml");
    std::fs::write(&good, TEMPLATE).expect("write");
    let out = icc(&[
        "policy",
        "apply",
        "-f",
        &good.display().to_string(),
        "--check",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(": valid\n"));
}
