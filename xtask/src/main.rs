//! Developer tasks for auditmesh, run as `cargo xtask TASK` (see `.cargo/config.toml`).

mod codegen;
mod extract;
mod facts;

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::facts::{workspace_root, Mode};

const USAGE: &str = "\
usage: cargo xtask TASK

tasks:
    codegen           rewrite the name tables in crates/vocab/src/generated/ from the facts
                      files in xtask/data/
    codegen --check   fail if the committed tables differ from what codegen would write
    extract-kernel KERNEL_SRC_DIR [--go-libaudit PATH] [--check]
                      rewrite the facts files in xtask/data/ (syscalls/*.tsv, errno.tsv,
                      record_types.tsv, arches.tsv) from a Linux source tree; the user-space
                      record type names come from a go-libaudit checkout (or its
                      auparse/zaudit_msg_types.go) if given, else from the current
                      record_types.tsv. --check only compares. See xtask/data/README.md.";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen::run(&workspace_root(), Mode::Write),
        ["codegen", "--check"] => codegen::run(&workspace_root(), Mode::Check),
        ["extract-kernel", rest @ ..] => extract_kernel(rest),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        [] => bail!("no task given\n\n{USAGE}"),
        _ => bail!("unknown task `{}`\n\n{USAGE}", args.join(" ")),
    }
}

fn extract_kernel(args: &[&str]) -> anyhow::Result<()> {
    let mut kernel = None;
    let mut go = extract::GoLibaudit::Previous;
    let mut mode = Mode::Write;
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match arg {
            "--check" => mode = Mode::Check,
            "--go-libaudit" => {
                let path = args.next().context("--go-libaudit needs a path")?;
                go = extract::GoLibaudit::Path(PathBuf::from(path));
            }
            _ if arg.starts_with('-') => bail!("unknown option `{arg}`\n\n{USAGE}"),
            _ if kernel.is_none() => kernel = Some(PathBuf::from(arg)),
            _ => bail!("more than one KERNEL_SRC_DIR\n\n{USAGE}"),
        }
    }
    let kernel = kernel.with_context(|| format!("no KERNEL_SRC_DIR given\n\n{USAGE}"))?;
    extract::run(&workspace_root(), &kernel, &go, mode)
}
