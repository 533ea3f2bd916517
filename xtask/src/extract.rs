//! `cargo xtask extract-kernel KERNEL_SRC_DIR`: reads the syscall tables and uapi headers of a
//! Linux source tree and writes the facts files under `xtask/data/` (numbers and names only).
//!
//! No kernel file is kept in the repository: the tree is only read, and what is written is the
//! list of number–name pairs the kernel's user-space interface defines (see `facts.rs` for the
//! files and `xtask/data/README.md` for how to update them).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::facts::{
    check_ident, lower_ident, provenance_prefix, upper_ident, Mode, Radix, SyscallArch, Table,
    AUDIT_H, DATA_DIR, ELF_EM_H, ERRNO_BASE_H, ERRNO_H, ERRNO_INTERNAL, ERRNO_INTERNAL_BASE,
    ERRNO_INTERNAL_H, GO_LIBAUDIT_COMMIT, GO_LIBAUDIT_MSG_TYPES, KERNEL, MIN_ARCHES,
    MIN_RECORD_TYPES, MIN_SYSCALLS, MIN_UAPI_ERRNO, RECORD_TYPES_TSV, SYSCALL_ARCHES,
};

/// Where the user-space record type names come from.
#[derive(Clone, Debug)]
pub enum GoLibaudit {
    /// A go-libaudit checkout, or its `auparse/zaudit_msg_types.go` itself.
    Path(PathBuf),
    /// The names already in `xtask/data/record_types.tsv`: the kernel's names are merged into
    /// them, so an update of the kernel alone needs no go-libaudit checkout.
    Previous,
}

/// Extracts every facts file from `kernel` and writes (or checks) them under the workspace `root`.
pub fn run(root: &Path, kernel: &Path, go: &GoLibaudit, mode: Mode) -> Result<()> {
    ensure!(
        kernel.join(AUDIT_H).is_file(),
        "{} does not look like a kernel source tree (no {AUDIT_H})",
        kernel.display()
    );
    check_kernel_version(kernel)?;
    check_errno_internal(root, kernel)?;
    let files = extract(root, kernel, go)?;
    crate::facts::sync(root, &files, mode, "extract-kernel")
}

/// Every facts file in memory: (path relative to the workspace root, contents).
pub fn extract(root: &Path, kernel: &Path, go: &GoLibaudit) -> Result<Vec<(String, String)>> {
    let tree = Tree(kernel);
    let facts = "Facts only (numbers and names), not a copy of any kernel file.";
    let see = "Do not edit by hand; see xtask/data/README.md.";
    let mut files = Vec::new();
    let mut add = |rel: String, header: Vec<String>, entries, radix| {
        let text = Table { header, entries }.to_text(radix);
        files.push((format!("{DATA_DIR}/{rel}"), text));
    };

    let arches = audit_arches(&tree.read(ELF_EM_H)?, &tree.read(AUDIT_H)?)?;
    add(
        crate::facts::ARCHES_TSV.to_string(),
        vec![
            format!("{}.", provenance_prefix()),
            format!("Sources: `AUDIT_ARCH_*` in `{AUDIT_H}`, `EM_*` in `{ELF_EM_H}`."),
            facts.to_string(),
            "Name: the macro name without `AUDIT_ARCH_`, in lower case.".to_string(),
            see.to_string(),
            "hex_value<TAB>name".to_string(),
        ],
        arch_names(&arches)?,
        Radix::Hex,
    );

    let errno = uapi_errno(&[
        (ERRNO_BASE_H, &tree.read(ERRNO_BASE_H)?),
        (ERRNO_H, &tree.read(ERRNO_H)?),
    ])?;
    ensure!(
        errno.len() >= MIN_UAPI_ERRNO,
        "found only {} uapi errno values",
        errno.len()
    );
    add(
        crate::facts::ERRNO_TSV.to_string(),
        vec![
            format!("{}.", provenance_prefix()),
            format!("Sources: `{ERRNO_BASE_H}`, `{ERRNO_H}`."),
            facts.to_string(),
            format!("The kernel-internal values ({ERRNO_INTERNAL_BASE} and up) are in {ERRNO_INTERNAL}."),
            see.to_string(),
            "number<TAB>name".to_string(),
        ],
        errno,
        Radix::Decimal,
    );

    let mut types = match go {
        GoLibaudit::Path(path) => {
            let file = if path.is_dir() {
                check_go_libaudit_commit(path)?;
                path.join(GO_LIBAUDIT_MSG_TYPES)
            } else {
                path.clone()
            };
            let text =
                fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            go_libaudit_types(&text).with_context(|| format!("{}", file.display()))?
        }
        GoLibaudit::Previous => {
            Table::read_any_release(root, RECORD_TYPES_TSV, Radix::Decimal)?.entries
        }
    };
    ensure!(
        types.len() >= MIN_RECORD_TYPES,
        "go-libaudit: found only {} record types",
        types.len()
    );
    merge_kernel_record_types(&mut types, &tree.read(AUDIT_H)?)?;
    add(
        RECORD_TYPES_TSV.to_string(),
        vec![
            format!(
                "{} and go-libaudit commit {GO_LIBAUDIT_COMMIT}.",
                provenance_prefix()
            ),
            format!("Sources: `{AUDIT_H}` (the kernel's record types) and go-libaudit's"),
            format!("`{GO_LIBAUDIT_MSG_TYPES}` (Apache-2.0, see NOTICE), which adds the"),
            "user-space record types and gives the names auditd prints.".to_string(),
            facts.to_string(),
            see.to_string(),
            "number<TAB>name".to_string(),
        ],
        types,
        Radix::Decimal,
    );

    for arch in SYSCALL_ARCHES {
        let mut source = format!("`{}`, ABIs {}", arch.tbl, arch.abis.join(", "));
        if let Some(header) = arch.arm_private {
            source.push_str(&format!("; `__ARM_NR_*` of `{header}`"));
        }
        add(
            arch.tsv(),
            vec![
                format!("{}.", provenance_prefix()),
                format!("Source: {source}."),
                format!("Syscalls of {}.", arch.audit_arches.join(", ")),
                facts.to_string(),
                see.to_string(),
                "number<TAB>name".to_string(),
            ],
            syscalls(&tree, arch)?,
            Radix::Decimal,
        );
    }
    Ok(files)
}

/// A kernel source tree.
struct Tree<'a>(&'a Path);

impl Tree<'_> {
    fn read(&self, rel: &str) -> Result<String> {
        let path = self.0.join(rel);
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Refuses a tree of another release than `KERNEL`, when its top-level `Makefile` says which.
fn check_kernel_version(kernel: &Path) -> Result<()> {
    let Ok(makefile) = fs::read_to_string(kernel.join("Makefile")) else {
        eprintln!(
            "extract-kernel: no Makefile in {}, cannot check that it is {KERNEL}",
            kernel.display()
        );
        return Ok(());
    };
    let version = kernel_version(&makefile).context("Makefile: no VERSION/PATCHLEVEL/SUBLEVEL")?;
    ensure!(
        version == KERNEL,
        "the tree is {version}, not {KERNEL}: update KERNEL in xtask/src/facts.rs first"
    );
    Ok(())
}

/// `Linux V.P.S` from the kernel's top-level Makefile.
fn kernel_version(makefile: &str) -> Option<String> {
    let var = |name: &str| {
        makefile.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    Some(format!(
        "Linux {}.{}.{}",
        var("VERSION")?,
        var("PATCHLEVEL")?,
        var("SUBLEVEL")?
    ))
}

/// Refuses a go-libaudit checkout at another commit than `GO_LIBAUDIT_COMMIT`, when git can tell.
fn check_go_libaudit_commit(dir: &Path) -> Result<()> {
    // Only the checkout's own top directory: inside another repository `git rev-parse` would
    // answer for that one.
    let output = if dir.join(".git").exists() {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "HEAD"])
            .output()
    } else {
        Err(std::io::ErrorKind::NotFound.into())
    };
    match output {
        Ok(out) if out.status.success() => {
            let head = String::from_utf8_lossy(&out.stdout).trim().to_string();
            ensure!(
                head == GO_LIBAUDIT_COMMIT,
                "{} is at {head}, not {GO_LIBAUDIT_COMMIT}: update GO_LIBAUDIT_COMMIT in \
                 xtask/src/facts.rs first",
                dir.display()
            );
        }
        _ => eprintln!(
            "extract-kernel: {} is not a git checkout, cannot check that it is go-libaudit {}",
            dir.display(),
            GO_LIBAUDIT_COMMIT
        ),
    }
    Ok(())
}

/// `errno-kernel-internal.txt` is written by hand; when the tree has `include/linux/errno.h`,
/// check it against that header's values from 512 up.
fn check_errno_internal(root: &Path, kernel: &Path) -> Result<()> {
    let Ok(header) = fs::read_to_string(kernel.join(ERRNO_INTERNAL_H)) else {
        eprintln!("extract-kernel: no {ERRNO_INTERNAL_H}, {ERRNO_INTERNAL} not checked");
        return Ok(());
    };
    let from_header: BTreeMap<u32, String> = defines(&header)
        .into_iter()
        .filter_map(|(name, value)| {
            let n = u32::try_from(parse_int(&value)?).ok()?;
            (n >= ERRNO_INTERNAL_BASE).then_some((n, name))
        })
        .collect();
    let path = root.join(DATA_DIR).join(ERRNO_INTERNAL);
    let ours = crate::codegen::read_errno_internal(
        &fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    ensure!(
        from_header == ours,
        "{ERRNO_INTERNAL_H} and xtask/data/{ERRNO_INTERNAL} disagree: update the latter\n\
         header: {from_header:?}\nours:   {ours:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Architectures

/// `AUDIT_ARCH_*` macro name → value, evaluated from audit.h and elf-em.h.
fn audit_arches(elf_em_h: &str, audit_h: &str) -> Result<BTreeMap<String, u32>> {
    let mut env = BTreeMap::new();
    for (name, value) in defines(elf_em_h) {
        if name.starts_with("EM_") {
            let v = eval(&value, &env).with_context(|| format!("{ELF_EM_H}: {name} {value}"))?;
            env.insert(name, v);
        }
    }
    let mut arches = BTreeMap::new();
    for (name, value) in defines(audit_h) {
        if name.starts_with("__AUDIT_ARCH_") {
            let v = eval(&value, &env).with_context(|| format!("{AUDIT_H}: {name} {value}"))?;
            env.insert(name, v);
        } else if name.starts_with("AUDIT_ARCH_") {
            let v = eval(&value, &env).with_context(|| format!("{AUDIT_H}: {name} {value}"))?;
            let v = u32::try_from(v).with_context(|| format!("{AUDIT_H}: {name} out of range"))?;
            arches.insert(name, v);
        }
    }
    ensure!(
        arches.len() >= MIN_ARCHES,
        "{AUDIT_H}: found only {} AUDIT_ARCH_* values",
        arches.len()
    );
    Ok(arches)
}

/// Value → name, the name being the macro's suffix in lower case (x86_64, i386, aarch64): what
/// ausearch prints.
fn arch_names(arches: &BTreeMap<String, u32>) -> Result<BTreeMap<u32, String>> {
    let mut by_value = BTreeMap::new();
    for (macro_name, &value) in arches {
        let name = macro_name["AUDIT_ARCH_".len()..].to_ascii_lowercase();
        check_ident(&name, lower_ident)?;
        if let Some(previous) = by_value.insert(value, name.clone()) {
            bail!("AUDIT_ARCH value {value:#x} is both {previous} and {name}");
        }
    }
    Ok(by_value)
}

// ---------------------------------------------------------------------------------------------
// Errno

/// The uapi errno values of `asm-generic/errno-base.h` and `errno.h`: (file, text) pairs.
fn uapi_errno(files: &[(&str, &str)]) -> Result<BTreeMap<u32, String>> {
    let mut uapi: BTreeMap<u32, String> = BTreeMap::new();
    for (file, text) in files {
        for (name, value) in defines(text) {
            // Aliases (`#define EWOULDBLOCK EAGAIN`) keep the first name for the number.
            let Some(n) = parse_int(&value) else { continue };
            let n = u32::try_from(n)?;
            check_ident(&name, upper_ident)?;
            if let Some(previous) = uapi.insert(n, name.clone()) {
                bail!("{file}: errno {n} is both {previous} and {name}");
            }
        }
    }
    ensure!(
        uapi.keys().all(|&n| n < ERRNO_INTERNAL_BASE),
        "uapi errno values reach into the kernel-internal range"
    );
    Ok(uapi)
}

// ---------------------------------------------------------------------------------------------
// Record types

/// go-libaudit's record types: its `AUDIT_X AuditMessageType = N` constants, named by its
/// `auditMessageTypeToName` map from constant to the name auditd prints (not always the
/// constant's suffix: AUDIT_AA prints as APPARMOR). `FIRST_*`/`LAST_*` bounds are skipped.
fn go_libaudit_types(go: &str) -> Result<BTreeMap<u32, String>> {
    let mut types: BTreeMap<u32, String> = BTreeMap::new();
    let mut consts: BTreeMap<&str, u32> = BTreeMap::new();
    for line in go.lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some("AuditMessageType"), Some("="), Some(value), None) = (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) {
            if name.starts_with("AUDIT_") {
                consts.insert(
                    name,
                    value
                        .parse()
                        .with_context(|| format!("go-libaudit: {line}"))?,
                );
            }
        }
    }
    let map_start = "var auditMessageTypeToName = map[AuditMessageType]string{";
    let map_body = go
        .split_once(map_start)
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .map(|(body, _)| body)
        .context("go-libaudit: auditMessageTypeToName not found")?;
    for line in map_body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (constant, name) = line
            .strip_suffix(',')
            .and_then(|l| l.split_once(':'))
            .with_context(|| format!("go-libaudit: unexpected line {line:?}"))?;
        let name = name.trim().trim_matches('"');
        let n = *consts
            .get(constant.trim())
            .with_context(|| format!("go-libaudit: no value for {constant}"))?;
        if is_range_marker(name) {
            continue;
        }
        if let Some(previous) = types.insert(n, name.to_string()) {
            bail!("go-libaudit: record type {n} is both {previous} and {name}");
        }
    }
    Ok(types)
}

/// Adds the kernel's `#define AUDIT_X N` record types (1000–2999) to `types`. Where both name a
/// number they must agree.
fn merge_kernel_record_types(types: &mut BTreeMap<u32, String>, audit_h: &str) -> Result<()> {
    for (macro_name, value) in defines(audit_h) {
        let Some(name) = macro_name.strip_prefix("AUDIT_") else {
            continue;
        };
        let Some(n) = value
            .parse::<u32>()
            .ok()
            .filter(|n| (1000..=2999).contains(n))
        else {
            continue;
        };
        if is_range_marker(name) {
            continue;
        }
        match types.get(&n) {
            None => {
                types.insert(n, name.to_string());
            }
            Some(existing) if existing == name => {}
            // go-libaudit writes AUDIT_AA (1500) as APPARMOR, like auditd; the kernel does not
            // define 1500, so any other disagreement is news and needs a decision.
            Some(existing) => bail!("record type {n}: go-libaudit says {existing}, audit.h {name}"),
        }
    }

    let mut seen = BTreeMap::new();
    for (n, name) in types.iter() {
        check_ident(name, upper_ident)?;
        if let Some(previous) = seen.insert(name.as_str(), *n) {
            bail!("record type name {name} is both {previous} and {n}");
        }
    }
    Ok(())
}

/// The `FIRST_*`/`LAST_*` range bounds share numbers with real types or name none.
fn is_range_marker(name: &str) -> bool {
    name.starts_with("FIRST_") || name.starts_with("LAST_") || name.contains("_LAST_")
}

// ---------------------------------------------------------------------------------------------
// Syscalls

/// Syscall number → name for one architecture.
fn syscalls(tree: &Tree, arch: &SyscallArch) -> Result<BTreeMap<u32, String>> {
    let mut table = syscall_tbl(&tree.read(arch.tbl)?, arch.abis)
        .with_context(|| format!("{} for {}", arch.tbl, arch.ident))?;
    if let Some(header) = arch.arm_private {
        for (n, name) in arm_private_syscalls(&tree.read(header)?)
            .with_context(|| format!("{header} for {}", arch.ident))?
        {
            add_syscall(&mut table, n, &name)
                .with_context(|| format!("{header} for {}", arch.ident))?;
        }
    }
    ensure!(
        table.len() >= MIN_SYSCALLS,
        "{}: only {} syscalls for {}",
        arch.tbl,
        table.len(),
        arch.ident
    );
    Ok(table)
}

fn add_syscall(table: &mut BTreeMap<u32, String>, n: u32, name: &str) -> Result<()> {
    check_ident(name, lower_ident)?;
    if let Some(previous) = table.insert(n, name.to_string()) {
        bail!("syscall {n} is both {previous} and {name}");
    }
    Ok(())
}

/// The entries of a `syscall*.tbl` file (`NUMBER ABI NAME [ENTRY...]`) whose ABI is in `abis`.
fn syscall_tbl(text: &str, abis: &[&str]) -> Result<BTreeMap<u32, String>> {
    let mut table = BTreeMap::new();
    for (line_no, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [n, abi, name, ..] = fields[..] else {
            bail!(
                "line {}: expected `NUMBER ABI NAME [ENTRY...]`",
                line_no + 1
            );
        };
        let n: u32 = n.parse().with_context(|| format!("line {}", line_no + 1))?;
        if abis.contains(&abi) {
            add_syscall(&mut table, n, name).with_context(|| format!("line {}", line_no + 1))?;
        }
    }
    Ok(table)
}

/// ARM's private syscalls, `#define __ARM_NR_X (__ARM_NR_BASE+N)` in its uapi `asm/unistd.h`,
/// for EABI (where `__NR_SYSCALL_BASE` is 0).
fn arm_private_syscalls(text: &str) -> Result<Vec<(u32, String)>> {
    let mut env = BTreeMap::from([("__NR_SYSCALL_BASE".to_string(), 0)]);
    let mut out = Vec::new();
    for (macro_name, value) in defines(text) {
        let Some(name) = macro_name.strip_prefix("__ARM_NR_") else {
            continue;
        };
        let v = eval(&value, &env).with_context(|| macro_name.clone())?;
        env.insert(macro_name.clone(), v);
        if name != "BASE" {
            out.push((u32::try_from(v)?, name.to_string()));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// C headers

/// The object-like `#define NAME VALUE` lines of a C header, with comments removed and
/// continuation lines joined. Function-like macros and bare `#define NAME` are skipped.
fn defines(text: &str) -> Vec<(String, String)> {
    // Drop /* ... */ comments first (they can span lines), then // comments per line.
    let mut clean = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        clean.push_str(&rest[..start]);
        clean.push(' ');
        rest = rest[start + 2..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    clean.push_str(rest);
    let joined = clean.replace("\\\n", " ");

    let mut out = Vec::new();
    for line in joined.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let Some(body) = line.strip_prefix('#').map(str::trim_start) else {
            continue;
        };
        let Some(body) = body.strip_prefix("define") else {
            continue;
        };
        if !body.starts_with([' ', '\t']) {
            continue;
        }
        let body = body.trim();
        let name_end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let (name, value) = body.split_at(name_end);
        // `#define F(x) ...` is function-like: the parenthesis follows the name directly.
        if value.starts_with('(') {
            continue;
        }
        let value = value.trim();
        if name.is_empty() || value.is_empty() {
            continue;
        }
        out.push((name.to_string(), value.to_string()));
    }
    out
}

/// Evaluates the small constant expressions of the uapi headers: a number, a macro name, or
/// `(A|B|C)` / `(A+B)` over those.
fn eval(expr: &str, env: &BTreeMap<String, u64>) -> Result<u64> {
    let flat: String = expr
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')')
        .collect();
    let term = |t: &str| -> Result<u64> {
        if let Some(v) = parse_int(t) {
            return Ok(v);
        }
        env.get(t)
            .copied()
            .with_context(|| format!("unknown symbol {t:?} in {expr:?}"))
    };
    if flat.contains('|') {
        flat.split('|').try_fold(0, |acc, t| Ok(acc | term(t)?))
    } else {
        flat.split('+').try_fold(0, |acc, t| Ok(acc + term(t)?))
    }
}

/// A C integer literal: decimal or `0x` hex, with an optional `U`/`L` suffix.
fn parse_int(s: &str) -> Option<u64> {
    let s = s.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    //! The inputs below are small made-up snippets in the kernel's formats, not kernel text.

    use super::*;

    #[test]
    fn header_parsing() {
        let text = "/* a\n * b */\n#define A 1 /* one */\n#define B\t(A|0x10)\n\
                    #define F(x) x\n#define C (B| \\\n   2)\n# define D 7 // seven\n";
        let defs = defines(text);
        let names: Vec<&str> = defs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "D"]);
        let mut env = BTreeMap::new();
        for (name, value) in defs {
            let v = eval(&value, &env).unwrap();
            env.insert(name, v);
        }
        assert_eq!((env["A"], env["B"], env["C"], env["D"]), (1, 0x11, 0x13, 7));
        assert_eq!(parse_int("0x0f0000"), Some(0xf_0000));
        assert_eq!(parse_int("12U"), Some(12));
        assert_eq!(parse_int("EAGAIN"), None);
    }

    #[test]
    fn tbl_parsing() {
        let text = "# comment\n\n0\tcommon\tread\tsys_read\n1\tx32\tfoo\n\
                    2 64 bar sys_bar # trailing\n3\toabi\tbaz\n";
        let table = syscall_tbl(text, &["common", "64"]).unwrap();
        assert_eq!(
            table.into_iter().collect::<Vec<_>>(),
            [(0, "read".to_string()), (2, "bar".to_string())]
        );
        assert!(syscall_tbl("0 common\n", &["common"]).is_err());
        assert!(syscall_tbl("0 common a\n0 64 b\n", &["common", "64"]).is_err());
        assert!(syscall_tbl("0 common A\n", &["common"]).is_err());
    }

    #[test]
    fn arm_private_parsing() {
        let text = "#define __ARM_NR_BASE\t\t\t(__NR_SYSCALL_BASE+0x0f0000)\n\
                    #define __ARM_NR_one\t\t(__ARM_NR_BASE+1)\n\
                    #define __NR_other 5\n";
        assert_eq!(
            arm_private_syscalls(text).unwrap(),
            [(0xf_0001, "one".to_string())]
        );
    }

    #[test]
    fn record_type_merging() {
        let go = "const (\n\tAUDIT_ONE AuditMessageType = 1100\n\
                  \tAUDIT_AA AuditMessageType = 1500\n\
                  \tAUDIT_FIRST_X AuditMessageType = 1100\n)\n\n\
                  var auditMessageTypeToName = map[AuditMessageType]string{\n\
                  \tAUDIT_ONE: \"ONE\",\n\tAUDIT_AA: \"APPARMOR\",\n\tAUDIT_FIRST_X: \"FIRST_X\",\n}\n";
        let mut types = go_libaudit_types(go).unwrap();
        merge_kernel_record_types(
            &mut types,
            "#define AUDIT_SYSCALL 1300 /* x */\n#define AUDIT_ONE 1100\n\
             #define AUDIT_LAST_X 1399\n#define AUDIT_BITMASK 64\n",
        )
        .unwrap();
        assert_eq!(
            types.into_iter().collect::<Vec<_>>(),
            [
                (1100, "ONE".to_string()),
                (1300, "SYSCALL".to_string()),
                (1500, "APPARMOR".to_string())
            ]
        );

        let mut types = go_libaudit_types(go).unwrap();
        assert!(merge_kernel_record_types(&mut types, "#define AUDIT_TWO 1100\n").is_err());
    }

    #[test]
    fn version_from_makefile() {
        let makefile = "# x\nVERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 13\nEXTRAVERSION =\n";
        assert_eq!(kernel_version(makefile).as_deref(), Some("Linux 7.2.13"));
        assert_eq!(kernel_version("VERSION = 7\n"), None);
    }

    #[test]
    fn arch_naming() {
        let arches = BTreeMap::from([
            ("AUDIT_ARCH_X86_64".to_string(), 0xc000_003e),
            ("AUDIT_ARCH_I386".to_string(), 0x4000_0003),
        ]);
        let names = arch_names(&arches).unwrap();
        assert_eq!(names[&0xc000_003e], "x86_64");
        assert_eq!(names[&0x4000_0003], "i386");
        let clash = BTreeMap::from([
            ("AUDIT_ARCH_A".to_string(), 1),
            ("AUDIT_ARCH_B".to_string(), 1),
        ]);
        assert!(arch_names(&clash).is_err());
    }
}
