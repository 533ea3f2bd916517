//! Tidy: the workspace's architecture rules, enforced by an ordinary `cargo test`.
//!
//! - Every Rust source file under `crates/*/src/` and `xtask/src/` starts with a `//!` comment that
//!   says what the module is (generated files too).
//! - The pure crates (`parse`, `assemble`, `vocab`, `render`, `filter`, `graph`) do no IO, no async and read no clock: the
//!   substrings that would do so are banned from their sources, tests and comments included
//!   (telling test code from the rest by text is not reliable, and the rule is simpler this way).
//! - The pure crates depend only on workspace crates and a short allowlist.
//!
//! Every failure names the file and line.

use std::path::{Path, PathBuf};

use conformance::repo_root;

const PURE_CRATES: [&str; 6] = ["parse", "assemble", "vocab", "render", "filter", "graph"];

/// Substrings that mean IO, async or a clock.
const BANNED_IN_PURE: [&str; 14] = [
    "std::fs",
    "std::net::Tcp",
    "std::net::Udp",
    "std::io::stdin",
    "std::io::stdout",
    "File::",
    "tokio",
    "async fn",
    ".await",
    "Instant::now",
    "SystemTime",
    "std::env::",
    "println!",
    "eprintln!",
];

/// External crates the pure crates may depend on, besides workspace crates.
const ALLOWED_EXTERNAL: [&str; 3] = ["memchr", "thiserror", "itoa"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate folders under `crates/` (the folder name is the crate name).
fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

#[test]
fn every_source_file_starts_with_a_module_doc_comment() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in crate_dirs(&root) {
        rust_files(&dir.join("src"), &mut files);
    }
    rust_files(&root.join("xtask/src"), &mut files);
    files.sort();
    assert!(files.len() > 10, "found only {} source files under {}", files.len(), root.display());

    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if !text.starts_with("//!") {
            let first = text.lines().next().unwrap_or("");
            failures.push(format!(
                "{}:1: does not start with a `//!` doc comment (first line: {first:?})",
                relative(&root, file)
            ));
        }
    }
    assert!(failures.is_empty(), "{} file(s) without a module doc comment:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn pure_crates_do_no_io_async_or_clock() {
    let root = repo_root();
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in PURE_CRATES {
        let mut files = Vec::new();
        rust_files(&root.join("crates").join(name).join("src"), &mut files);
        files.sort();
        assert!(!files.is_empty(), "crates/{name}/src has no Rust files");
        for file in &files {
            checked += 1;
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for (n, line) in text.lines().enumerate() {
                for banned in BANNED_IN_PURE {
                    if line.contains(banned) {
                        failures.push(format!(
                            "{}:{}: `{banned}` in a pure crate: {}",
                            relative(&root, file),
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 0);
    assert!(failures.is_empty(), "{} banned use(s) in pure crates:\n{}", failures.len(), failures.join("\n"));
}

/// Returns `(line number, dependency name)` for every normal dependency in a Cargo.toml:
/// `[dependencies]`, `[dependencies.NAME]` and `[target.….dependencies]`.
fn normal_dependencies(manifest: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_deps = false;
    for (n, raw) in manifest.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let header = header.trim();
            in_deps = header == "dependencies" || (header.starts_with("target.") && header.ends_with(".dependencies"));
            if let Some(name) = header.strip_prefix("dependencies.") {
                out.push((n + 1, name.trim().to_string()));
            }
            continue;
        }
        if in_deps {
            let name: String = line.chars().take_while(|c| !matches!(c, '=' | '.' | ' ')).collect();
            out.push((n + 1, name.trim_matches('"').to_string()));
        }
    }
    out
}

#[test]
fn pure_crates_depend_only_on_workspace_crates_and_the_allowlist() {
    let root = repo_root();
    let workspace: Vec<String> = crate_dirs(&root)
        .iter()
        .map(|d| d.file_name().expect("a folder name").to_string_lossy().into_owned())
        .collect();
    let mut failures = Vec::new();
    for name in PURE_CRATES {
        let manifest_path = root.join("crates").join(name).join("Cargo.toml");
        let manifest =
            std::fs::read_to_string(&manifest_path).unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
        for (line, dep) in normal_dependencies(&manifest) {
            let allowed = workspace.contains(&dep) || ALLOWED_EXTERNAL.contains(&dep.as_str());
            if !allowed {
                failures.push(format!(
                    "{}:{line}: pure crate `{name}` depends on `{dep}`, which is neither a workspace crate nor in {ALLOWED_EXTERNAL:?}",
                    relative(&root, &manifest_path)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} dependency rule violation(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_dependency_reader_sees_every_form() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nvocab.workspace = true\nmemchr = \"2\" # fast\n\"serde\" = { version = \"1\" }\n\n[dev-dependencies]\ninsta = \"1\"\n\n[dependencies.tokio]\nversion = \"1\"\n\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n";
    let names: Vec<(usize, String)> = normal_dependencies(manifest);
    let names: Vec<(usize, &str)> = names.iter().map(|(n, s)| (*n, s.as_str())).collect();
    assert_eq!(names, [(5, "vocab"), (6, "memchr"), (7, "serde"), (12, "tokio"), (16, "libc")]);
}
