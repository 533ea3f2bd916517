//! The facts files under `xtask/data/`: what they hold, where they come from, and how they are
//! read and written.
//!
//! `cargo xtask extract-kernel` writes them from a Linux source tree (see `extract.rs`) and
//! `cargo xtask codegen` reads them (see `codegen.rs`). Each one is plain text: `# ` comment lines
//! giving its provenance, then one `number<TAB>name` line per entry, sorted by number. They hold
//! numbers and names only (interoperability facts), never text copied from a kernel file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

/// The kernel release the facts files were extracted from. Update it together with the files:
/// `extract-kernel` refuses a tree whose `Makefile` names another release, and `codegen` refuses
/// facts files whose header names another release.
pub const KERNEL: &str = "Linux 7.2.13";

/// The go-libaudit commit the user-space record type names were taken from.
pub const GO_LIBAUDIT_COMMIT: &str = "bc9ea4581bf8fad62760036e6aa90aaacbbfd0e8";

/// The go-libaudit file with the record type table, relative to a go-libaudit checkout.
pub const GO_LIBAUDIT_MSG_TYPES: &str = "auparse/zaudit_msg_types.go";

/// The facts directory, relative to the workspace root.
pub const DATA_DIR: &str = "xtask/data";

/// `AUDIT_ARCH_*` values and names, relative to `DATA_DIR`.
pub const ARCHES_TSV: &str = "arches.tsv";
/// uapi errno values and names, relative to `DATA_DIR`.
pub const ERRNO_TSV: &str = "errno.tsv";
/// Record (message) type numbers and names, relative to `DATA_DIR`.
pub const RECORD_TYPES_TSV: &str = "record_types.tsv";
/// Kernel-internal errno values (512 and up), relative to `DATA_DIR`. Written by hand, not by
/// `extract-kernel`: the header they come from (`include/linux/errno.h`) is not a uapi header.
pub const ERRNO_INTERNAL: &str = "errno-kernel-internal.txt";

/// Kernel uapi headers read by `extract-kernel`, relative to the kernel tree.
pub const AUDIT_H: &str = "include/uapi/linux/audit.h";
pub const ELF_EM_H: &str = "include/uapi/linux/elf-em.h";
pub const ERRNO_BASE_H: &str = "include/uapi/asm-generic/errno-base.h";
pub const ERRNO_H: &str = "include/uapi/asm-generic/errno.h";
/// The kernel-internal errno header, only used to cross-check `ERRNO_INTERNAL`.
pub const ERRNO_INTERNAL_H: &str = "include/linux/errno.h";

/// The first kernel-internal errno value (`ERESTARTSYS`).
pub const ERRNO_INTERNAL_BASE: u32 = 512;

/// Sanity floors: a table smaller than this means a parse went wrong.
pub const MIN_ARCHES: usize = 31;
pub const MIN_UAPI_ERRNO: usize = 101;
pub const MIN_RECORD_TYPES: usize = 201;
pub const MIN_SYSCALLS: usize = 301;

/// One syscall table: the audit architectures it serves, the file it is extracted from, and which
/// ABI column values of that `.tbl` file belong to it.
pub struct SyscallArch {
    /// Name of the generated static.
    pub ident: &'static str,
    /// The facts file is `xtask/data/syscalls/<file>.tsv`.
    pub file: &'static str,
    /// `AUDIT_ARCH_*` macros whose syscall numbers this table gives.
    pub audit_arches: &'static [&'static str],
    /// The `.tbl` file, relative to the kernel tree.
    pub tbl: &'static str,
    /// The ABIs to take from it, as the kernel's build selects them for this architecture.
    pub abis: &'static [&'static str],
    /// A uapi header with `__ARM_NR_*` private syscalls to add (ARM only), relative to the kernel
    /// tree.
    pub arm_private: Option<&'static str>,
}

impl SyscallArch {
    /// The facts file, relative to `DATA_DIR`.
    pub fn tsv(&self) -> String {
        format!("syscalls/{}.tsv", self.file)
    }
}

/// The ABI selections are kernel build settings (Makefiles), so they are written out here.
pub const SYSCALL_ARCHES: &[SyscallArch] = &[
    SyscallArch {
        ident: "X86_64",
        file: "x86_64",
        audit_arches: &["AUDIT_ARCH_X86_64"],
        tbl: "arch/x86/entry/syscalls/syscall_64.tbl",
        // Not x32: x32 calls carry __X32_SYSCALL_BIT in their number.
        abis: &["common", "64"],
        arm_private: None,
    },
    SyscallArch {
        ident: "I386",
        file: "i386",
        audit_arches: &["AUDIT_ARCH_I386"],
        tbl: "arch/x86/entry/syscalls/syscall_32.tbl",
        abis: &["i386"],
        arm_private: None,
    },
    SyscallArch {
        ident: "AARCH64",
        file: "aarch64",
        audit_arches: &["AUDIT_ARCH_AARCH64"],
        tbl: "arch/arm64/tools/syscall_64.tbl",
        // scripts/Makefile.asm-headers (common, 64) plus arch/arm64/kernel/Makefile.syscalls.
        abis: &["common", "64", "renameat", "rlimit", "memfd_secret"],
        arm_private: None,
    },
    SyscallArch {
        ident: "ARM",
        file: "arm",
        audit_arches: &["AUDIT_ARCH_ARM"],
        tbl: "arch/arm/tools/syscall.tbl",
        // EABI, as arch/arm/kernel/Makefile builds unistd-eabi.h; not the old ABI (OABI).
        abis: &["common", "eabi"],
        arm_private: Some("arch/arm/include/uapi/asm/unistd.h"),
    },
    SyscallArch {
        ident: "PPC64",
        file: "ppc64",
        // Big- and little-endian ppc64 share one table.
        audit_arches: &["AUDIT_ARCH_PPC64", "AUDIT_ARCH_PPC64LE"],
        tbl: "arch/powerpc/kernel/syscalls/syscall.tbl",
        // As arch/powerpc/kernel/syscalls/Makefile builds unistd_64.h.
        abis: &["common", "64", "nospu"],
        arm_private: None,
    },
    SyscallArch {
        ident: "S390X",
        file: "s390x",
        audit_arches: &["AUDIT_ARCH_S390X"],
        tbl: "arch/s390/kernel/syscalls/syscall.tbl",
        abis: &["common", "64"],
        arm_private: None,
    },
    SyscallArch {
        ident: "RISCV64",
        file: "riscv64",
        audit_arches: &["AUDIT_ARCH_RISCV64"],
        tbl: "scripts/syscall.tbl",
        // scripts/Makefile.asm-headers (common, 64) plus arch/riscv/kernel/Makefile.syscalls.
        abis: &["common", "64", "riscv", "rlimit", "memfd_secret"],
        arm_private: None,
    },
];

/// The workspace root: the parent of the xtask crate.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The first header line of every facts file is this, followed by `.` or ` and …`.
pub fn provenance_prefix() -> String {
    format!("Generated by `cargo xtask extract-kernel` from {KERNEL}")
}

/// How the numbers of a facts file are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Radix {
    /// `1300`
    Decimal,
    /// `0xc000003e`: `0x` and eight lower-case hex digits.
    Hex,
}

impl Radix {
    fn format(self, n: u32) -> String {
        match self {
            Radix::Decimal => n.to_string(),
            Radix::Hex => format!("{n:#010x}"),
        }
    }
}

/// One facts file: its `# ` header lines (without the `# `) and its entries.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Table {
    pub header: Vec<String>,
    pub entries: BTreeMap<u32, String>,
}

impl Table {
    /// The file's text: the header as `# ` lines, then `number<TAB>name` lines sorted by number.
    pub fn to_text(&self, radix: Radix) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str(if line.is_empty() { "#" } else { "# " });
            out.push_str(line);
            out.push('\n');
        }
        for (n, name) in &self.entries {
            let _ = writeln!(out, "{}\t{name}", radix.format(*n));
        }
        out
    }

    /// Parses the text `to_text` writes, and only that: the header lines first, then entries in
    /// strictly increasing order with numbers written in `radix`, nothing else.
    pub fn parse(text: &str, radix: Radix) -> Result<Table> {
        let mut header = Vec::new();
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if let Some(comment) = line.strip_prefix('#') {
                ensure!(
                    entries.is_empty(),
                    "line {line_no}: comment after the entries"
                );
                let comment = match comment.strip_prefix(' ') {
                    Some(c) => c,
                    None if comment.is_empty() => "",
                    None => bail!("line {line_no}: comment without a space after `#`"),
                };
                header.push(comment.to_string());
                continue;
            }
            let Some((number, name)) = line.split_once('\t') else {
                bail!("line {line_no}: expected `number<TAB>name`");
            };
            let n = match radix {
                Radix::Decimal => number.parse().ok(),
                Radix::Hex => number
                    .strip_prefix("0x")
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok()),
            };
            let Some(n) = n.filter(|n| radix.format(*n) == number) else {
                bail!("line {line_no}: bad number {number:?} (expected {radix:?})");
            };
            ensure!(
                !name.is_empty() && !name.contains(char::is_whitespace),
                "line {line_no}: bad name {name:?}"
            );
            if let Some((&last, _)) = entries.last_key_value() {
                ensure!(n > last, "line {line_no}: {n} is not above {last}");
            }
            entries.insert(n, name.to_string());
        }
        ensure!(!header.is_empty(), "no `# ` header lines");
        ensure!(!entries.is_empty(), "no entries");
        Ok(Table { header, entries })
    }

    /// Reads `DATA_DIR/rel` under the workspace `root`, and checks that its header names the
    /// kernel release in `KERNEL`.
    pub fn read(root: &Path, rel: &str, radix: Radix) -> Result<Table> {
        let table = Table::read_any_release(root, rel, radix)?;
        let path = root.join(DATA_DIR).join(rel);
        let from_kernel = table.header[0]
            .strip_prefix(&provenance_prefix())
            .is_some_and(|rest| rest == "." || rest.starts_with(" and "));
        ensure!(
            from_kernel,
            "{}: the first line does not say `{} …`; extract the facts again or update KERNEL",
            path.display(),
            provenance_prefix()
        );
        Ok(table)
    }

    /// Reads `DATA_DIR/rel` under the workspace `root`, whichever release its header names (for
    /// `extract-kernel`, which may be replacing it with another).
    pub fn read_any_release(root: &Path, rel: &str, radix: Radix) -> Result<Table> {
        let path = root.join(DATA_DIR).join(rel);
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Table::parse(&text, radix).with_context(|| format!("{}", path.display()))
    }
}

/// What `sync` does with files whose contents differ.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Rewrite files whose contents differ.
    Write,
    /// Only report files whose contents differ, and fail if there are any.
    Check,
}

/// Writes (or checks) `files`, given as (path relative to `root`, contents). `task` names the
/// command in messages.
pub fn sync(root: &Path, files: &[(String, String)], mode: Mode, task: &str) -> Result<()> {
    let mut stale = Vec::new();
    for (rel, contents) in files {
        let path = root.join(rel);
        let current = fs::read_to_string(&path).unwrap_or_default();
        if current == *contents {
            continue;
        }
        stale.push(rel.clone());
        if mode == Mode::Write {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{task}: wrote {rel}");
        }
    }
    match mode {
        Mode::Write if stale.is_empty() => {
            eprintln!("{task}: all {} files up to date", files.len())
        }
        Mode::Write => {}
        Mode::Check if stale.is_empty() => {}
        Mode::Check => bail!(
            "stale files (run `cargo xtask {task}`): {}",
            stale.join(", ")
        ),
    }
    Ok(())
}

/// Rejects names that would need escaping in a string literal or look like parse errors.
pub fn check_ident(name: &str, allowed: impl Fn(char) -> bool) -> Result<()> {
    ensure!(
        !name.is_empty() && name.chars().all(allowed),
        "unexpected name {name:?}"
    );
    Ok(())
}

/// Upper-case C identifiers: `EPERM`, `SYSCALL`.
pub fn upper_ident(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'
}

/// Lower-case identifiers: `openat`, `x86_64`.
pub fn lower_ident(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(u32, &str)]) -> Table {
        Table {
            header: vec![format!("{}.", provenance_prefix()), String::new()],
            entries: entries.iter().map(|(n, s)| (*n, s.to_string())).collect(),
        }
    }

    #[test]
    fn tsv_round_trip() {
        let t = table(&[(0, "read"), (1, "write"), (0xf_0002, "cacheflush")]);
        let text = t.to_text(Radix::Decimal);
        assert!(text.starts_with("# Generated by `cargo xtask extract-kernel` from Linux"));
        assert!(text.contains("\n#\n0\tread\n1\twrite\n983042\tcacheflush\n"));
        assert_eq!(Table::parse(&text, Radix::Decimal).unwrap(), t);

        let hex = t.to_text(Radix::Hex);
        assert!(hex.contains("\n0x00000001\twrite\n0x000f0002\tcacheflush\n"));
        assert_eq!(Table::parse(&hex, Radix::Hex).unwrap(), t);
    }

    #[test]
    fn tsv_rejects_what_it_does_not_write() {
        let bad = [
            "# h\n1\tb\n0\ta\n",   // unsorted
            "# h\n1\ta\n1\tb\n",   // duplicate
            "# h\n01\ta\n",        // not canonical
            "# h\n1 a\n",          // no tab
            "# h\n1\ta b\n",       // space in name
            "# h\n1\t\n",          // empty name
            "# h\n1\ta\n# late\n", // comment after entries
            "#h\n1\ta\n",          // no space after #
            "1\ta\n",              // no header
            "# h\n",               // no entries
            "# h\n0x1\ta\n",       // hex in a decimal file
        ];
        for text in bad {
            assert!(Table::parse(text, Radix::Decimal).is_err(), "{text:?}");
        }
        assert!(Table::parse("# h\n1\ta\n", Radix::Hex).is_err());
        assert!(Table::parse("# h\n0x1\ta\n", Radix::Hex).is_err());
    }
}
