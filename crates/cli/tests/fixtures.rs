//! Golden output: `auditmesh parse` over every log in the repository's `fixtures/`, native and
//! ECS, as insta snapshots (the first events of each log plus the run's counters).
//!
//! Review a changed snapshot as a change of the output format: `cargo insta review`.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");

/// Events (and diagnostics) kept per snapshot, to keep snapshots reviewable.
const NATIVE_LINES: usize = 50;
const ECS_LINES: usize = 25;

/// Runs `auditmesh parse` from the repository root on `log` (so that `source` in diagnostics
/// is a repository path) and returns the first `keep` output lines and the counters.
fn parse(log: &Path, format: &str, keep: usize) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().expect("repository root");
    let relative = log.strip_prefix(&root).expect("fixtures are in the repository");
    let output = Command::new(BIN)
        .args(["parse", "--quiet", "--stats", "--format", format])
        .arg(relative)
        .current_dir(&root)
        .output()
        .expect("run auditmesh");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    let mut snapshot = String::new();
    for line in lines.iter().take(keep) {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        snapshot.push_str(line);
        snapshot.push('\n');
    }
    if lines.len() > keep {
        snapshot.push_str(&format!("… {} more lines\n", lines.len() - keep));
    }
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
    let mut stats: serde_json::Value = serde_json::from_str(stderr.trim_end()).expect("stats JSON");
    let object = stats.as_object_mut().expect("stats object");
    object.remove("elapsed_s");
    object.remove("records_per_sec");
    snapshot.push_str(&format!("stats: {stats}\n"));
    snapshot
}

#[test]
fn native() {
    insta::glob!("../../../fixtures", "**/*.log", |path| {
        insta::assert_snapshot!(parse(path, "native", NATIVE_LINES));
    });
}

#[test]
fn ecs() {
    insta::glob!("../../../fixtures", "**/*.log", |path| {
        insta::assert_snapshot!(parse(path, "ecs", ECS_LINES));
    });
}
