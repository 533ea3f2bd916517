//! The agent's configuration: the YAML file's shape, its defaults, and the checks made at start.
//!
//! Parsing is serde with `deny_unknown_fields` through `serde-saphyr`, so a misspelt key is an
//! error that names it and its line; the checks serde cannot make (a path a source needs, a
//! filter rule's syntax, an address) are made by [`Config::validate`], and every error names the
//! key it is about (`source.path`, `filters.rules[2]`). Command-line flags are applied on top of
//! the file by the caller, before validation.
//!
//! It does not read anything but the file it is given: sources, rules and state are opened by the
//! agent when it starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where records come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The kernel over netlink, registered as the audit daemon (auditd must not run).
    Netlink,
    /// The kernel's read-only multicast group, beside a running auditd.
    NetlinkCoexist,
    /// A growing `audit.log`, followed across rotations, with a checkpoint.
    File,
    /// auditd's dispatcher (`plugins.d`, `format = string`) on standard input.
    Plugin,
    /// go-audit / go-audit-container JSON lines, from a file (followed) or `-` (standard input).
    GoAudit,
}

impl SourceKind {
    /// Returns the name used in the configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Netlink => "netlink",
            SourceKind::NetlinkCoexist => "netlink-coexist",
            SourceKind::File => "file",
            SourceKind::Plugin => "plugin",
            SourceKind::GoAudit => "go-audit",
        }
    }

    /// Tells whether the source reads the kernel itself.
    pub fn is_netlink(self) -> bool {
        matches!(self, SourceKind::Netlink | SourceKind::NetlinkCoexist)
    }
}

/// `source:` — one source per agent.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Source {
    pub kind: SourceKind,
    /// `file`: the live `audit.log`; `go-audit`: the file go-audit writes, or `-`.
    pub path: Option<PathBuf>,
    /// `netlink`: replace a registered audit daemon whose socket is gone (the kernel still
    /// refuses while it lives).
    pub take_over: bool,
    /// `netlink*`: the socket's receive buffer, bytes (`SO_RCVBUFFORCE`).
    pub receive_buffer: usize,
    /// `file`: on a first start (no checkpoint), read `audit.log.N … audit.log.1` first.
    pub backfill_rotated: bool,
    /// `file`, `go-audit`: how often the file is polled for new lines, milliseconds.
    pub poll_interval_ms: u64,
    /// The longest line taken whole; longer ones are kept, in pieces, as diagnostics.
    pub max_line_bytes: usize,
}

impl Default for Source {
    fn default() -> Source {
        Source {
            kind: SourceKind::Netlink,
            path: None,
            take_over: false,
            receive_buffer: 16 << 20,
            backfill_rotated: false,
            poll_interval_ms: 200,
            max_line_bytes: 1 << 20,
        }
    }
}

/// `kernel:` — what the agent sets in the kernel (own `netlink` mode only, but for status).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Kernel {
    /// An auditctl-syntax rules file loaded at start.
    pub rules: Option<PathBuf>,
    /// Load the remaining rules when one fails (each failure is still reported).
    pub ignore_rule_errors: bool,
    /// Honour `-D` (delete every rule, also other tools') in the rules file.
    pub allow_flush: bool,
    /// Delete the rules the file added when the agent stops.
    pub remove_rules_on_exit: bool,
    /// Set the kernel's backlog limit (records queued for the daemon).
    pub backlog_limit: Option<u32>,
    /// Set `backlog_wait_time` (jiffies). 0: audited syscalls never wait for the agent; a full
    /// backlog then loses records (counted in `lost`) instead of slowing the system.
    pub backlog_wait_time: Option<u32>,
    /// Turn auditing on at start if it is off, and back off at exit (own mode).
    pub enable: bool,
    /// How often the kernel status (`lost`, `backlog` …) is polled, milliseconds; 0: never.
    pub status_interval_ms: u64,
}

impl Default for Kernel {
    fn default() -> Kernel {
        Kernel {
            rules: None,
            ignore_rule_errors: false,
            allow_flush: false,
            remove_rules_on_exit: false,
            backlog_limit: None,
            backlog_wait_time: None,
            enable: true,
            status_interval_ms: 1_000,
        }
    }
}

/// `enrichment:` — context added to every event from the host.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Enrichment {
    /// The process table: parent exe, argv and exec time on every event.
    pub processes: bool,
    /// Ancestors beyond the parent, nearest first (0: the parent only).
    pub ancestry_depth: usize,
    /// The most processes kept in the table.
    pub max_processes: usize,
    /// Container and pod identity from `/proc/PID/cgroup`.
    pub containers: bool,
    /// Namespace inode ids from `/proc/PID/ns`.
    pub namespaces: bool,
    /// uid/gid names from `/etc/passwd` and `/etc/group` where the record has none.
    pub users: bool,
    /// Host UUID (persisted in the state directory), boot id and hostname.
    pub host: bool,
}

impl Default for Enrichment {
    fn default() -> Enrichment {
        Enrichment {
            processes: true,
            ancestry_depth: 0,
            max_processes: 16_384,
            containers: true,
            namespaces: true,
            users: true,
            host: true,
        }
    }
}

/// `filters:` — what is dropped at the source (the `filter` crate's rule syntax).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Filters {
    /// `keep` or `drop`: the action when no rule matches.
    pub default: String,
    /// Rules in order, e.g. `drop key=noisy exe^=/usr/lib/`.
    pub rules: Vec<String>,
    /// Keep the first event of every process whatever the rules say, so trees stay whole.
    pub lineage: bool,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters {
            default: "keep".to_string(),
            rules: Vec::new(),
            lineage: true,
        }
    }
}

/// The output shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Native,
    Ecs,
}

/// `output:` — JSON lines, one event per line.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Output {
    /// A file (appended to) or `-` for standard output.
    pub path: PathBuf,
    pub format: OutputFormat,
    /// Also write each record's line as read.
    pub raw: bool,
}

impl Default for Output {
    fn default() -> Output {
        Output {
            path: PathBuf::from("-"),
            format: OutputFormat::Native,
            raw: false,
        }
    }
}

/// `metrics:` — Prometheus text exposition over HTTP.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// Address to serve `GET /metrics` on, e.g. `127.0.0.1:9469`; absent: no endpoint.
    pub listen: Option<String>,
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the agent keeps its state: host UUID, process table, file checkpoint.
    pub state_dir: PathBuf,
    pub source: Source,
    pub kernel: Kernel,
    pub enrichment: Enrichment,
    pub filters: Filters,
    pub output: Output,
    pub metrics: Metrics,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            state_dir: PathBuf::from("/var/lib/auditmesh"),
            source: Source::default(),
            kernel: Kernel::default(),
            enrichment: Enrichment::default(),
            filters: Filters::default(),
            output: Output::default(),
            metrics: Metrics::default(),
        }
    }
}

/// A configuration that cannot be used, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid YAML for this shape (unknown key, wrong type …); serde-saphyr's
    /// message names the key and the line.
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    /// A value serde accepted but the agent cannot use.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.to_string(),
    }
}

impl Config {
    /// Parses YAML text; `file` names it in errors. An empty document is the defaults.
    pub fn from_yaml(file: &str, text: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        serde_saphyr::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.to_string(),
            message: e.to_string(),
        })
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Syntax {
            file: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Config::from_yaml(&path.display().to_string(), &text)
    }

    /// Checks what serde cannot; returns the first problem found, naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let kind = self.source.kind;
        match kind {
            SourceKind::File | SourceKind::GoAudit if self.source.path.is_none() => {
                return Err(invalid(
                    "source.path",
                    format!("required when source.kind is {}", kind.as_str()),
                ));
            }
            SourceKind::File if self.source.path.as_deref() == Some(Path::new("-")) => {
                return Err(invalid(
                    "source.path",
                    "a file source follows a file; for standard input use source.kind plugin",
                ));
            }
            _ => {}
        }
        if self.source.path.is_some()
            && !matches!(kind, SourceKind::File | SourceKind::GoAudit)
        {
            return Err(invalid(
                "source.path",
                format!("not used by source.kind {}", kind.as_str()),
            ));
        }
        if self.source.max_line_bytes < 16 << 10 {
            return Err(invalid(
                "source.max_line_bytes",
                "must be at least 16384 (a kernel record is up to 8970 bytes)",
            ));
        }
        if self.source.poll_interval_ms == 0 {
            return Err(invalid("source.poll_interval_ms", "must be more than 0"));
        }
        if kind != SourceKind::Netlink {
            let own_only = [
                ("kernel.rules", self.kernel.rules.is_some()),
                ("kernel.backlog_limit", self.kernel.backlog_limit.is_some()),
                ("kernel.backlog_wait_time", self.kernel.backlog_wait_time.is_some()),
                ("source.take_over", self.source.take_over),
            ];
            if let Some((key, _)) = own_only.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    *key,
                    format!(
                        "only the netlink source (own mode) changes kernel settings; with source.kind {} they belong to whoever owns the audit daemon registration",
                        kind.as_str()
                    ),
                ));
            }
        }
        if let Some(limit) = self.kernel.backlog_limit {
            if limit == 0 {
                return Err(invalid("kernel.backlog_limit", "must be more than 0"));
            }
        }
        if self.enrichment.max_processes == 0 && self.enrichment.processes {
            return Err(invalid("enrichment.max_processes", "must be more than 0"));
        }
        self.filter_set()?;
        if let Some(listen) = &self.metrics.listen {
            listen
                .parse::<SocketAddr>()
                .map_err(|e| invalid("metrics.listen", format!("{listen:?} is not an address with a port: {e}")))?;
        }
        if self.output.path.as_os_str().is_empty() {
            return Err(invalid("output.path", "must be a file or -"));
        }
        if self.state_dir.as_os_str().is_empty() {
            return Err(invalid("state_dir", "must be a directory"));
        }
        Ok(())
    }

    /// Builds the filter set from `filters`, naming the rule that does not parse.
    pub fn filter_set(&self) -> Result<filter::FilterSet, ConfigError> {
        let default = match self.filters.default.as_str() {
            "keep" | "drop" => self.filters.default.as_str(),
            other => {
                return Err(invalid(
                    "filters.default",
                    format!("{other:?}: expected keep or drop"),
                ))
            }
        };
        for (i, rule) in self.filters.rules.iter().enumerate() {
            if rule.contains('\n') {
                return Err(invalid(format!("filters.rules[{i}]"), "one rule per entry"));
            }
            filter::Rule::parse(rule).map_err(|e| invalid(format!("filters.rules[{i}]"), e))?;
        }
        let mut text = format!("default {default}\n");
        for rule in &self.filters.rules {
            text.push_str(rule);
            text.push('\n');
        }
        filter::FilterSet::parse(&text).map_err(|e| invalid("filters.rules", e))
    }

    /// Tells whether events go to standard output.
    pub fn output_is_stdout(&self) -> bool {
        self.output.path == Path::new("-")
    }
}

/// Parses a `--source` flag: `netlink`, `netlink-coexist`, `plugin`, `file:PATH`, `go-audit:PATH`.
pub fn parse_source_flag(flag: &str) -> Result<(SourceKind, Option<PathBuf>), String> {
    let (kind, path) = match flag.split_once(':') {
        Some((kind, path)) => (kind, Some(path)),
        None => (flag, None),
    };
    let kind = match kind {
        "netlink" => SourceKind::Netlink,
        "netlink-coexist" => SourceKind::NetlinkCoexist,
        "plugin" => SourceKind::Plugin,
        "file" => SourceKind::File,
        "go-audit" => SourceKind::GoAudit,
        other => {
            return Err(format!(
                "unknown source {other:?}: expected netlink, netlink-coexist, plugin, file:PATH or go-audit:PATH"
            ))
        }
    };
    match (kind, path) {
        (SourceKind::File | SourceKind::GoAudit, None | Some("")) => {
            Err(format!("source {} needs a path: {}:PATH", kind.as_str(), kind.as_str()))
        }
        (SourceKind::File | SourceKind::GoAudit, Some(path)) => Ok((kind, Some(PathBuf::from(path)))),
        (_, Some(_)) => Err(format!("source {} takes no path", kind.as_str())),
        (_, None) => Ok((kind, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_the_defaults() {
        let text = include_str!("../../../examples/agent.yaml");
        assert_eq!(Config::from_yaml("agent.yaml", text), Ok(Config::default()));
        let plugin = Config::from_yaml("agent-plugin.yaml", include_str!("../../../examples/agent-plugin.yaml")).unwrap();
        assert_eq!(plugin.source.kind, SourceKind::Plugin);
        assert_eq!(plugin.validate(), Ok(()));
    }

    #[test]
    fn source_flags() {
        assert_eq!(parse_source_flag("netlink"), Ok((SourceKind::Netlink, None)));
        assert_eq!(parse_source_flag("netlink-coexist"), Ok((SourceKind::NetlinkCoexist, None)));
        assert_eq!(parse_source_flag("plugin"), Ok((SourceKind::Plugin, None)));
        assert_eq!(parse_source_flag("file:/var/log/audit/audit.log"), Ok((SourceKind::File, Some(PathBuf::from("/var/log/audit/audit.log")))));
        assert_eq!(parse_source_flag("go-audit:-"), Ok((SourceKind::GoAudit, Some(PathBuf::from("-")))));
        assert_eq!(parse_source_flag("file:"), Err("source file needs a path: file:PATH".to_string()));
        assert_eq!(parse_source_flag("plugin:/x"), Err("source plugin takes no path".to_string()));
        assert_eq!(
            parse_source_flag("kafka"),
            Err("unknown source \"kafka\": expected netlink, netlink-coexist, plugin, file:PATH or go-audit:PATH".to_string())
        );
    }

    fn invalid_key(yaml: &str) -> String {
        match Config::from_yaml("t.yaml", yaml).and_then(|c| c.validate()) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("{yaml:?}: expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_key() {
        assert_eq!(invalid_key("source:\n  kind: go-audit\n"), "source.path");
        assert_eq!(invalid_key("source:\n  kind: file\n  path: \"-\"\n"), "source.path");
        assert_eq!(invalid_key("source:\n  kind: netlink\n  path: /x\n"), "source.path");
        assert_eq!(invalid_key("source:\n  max_line_bytes: 100\n"), "source.max_line_bytes");
        assert_eq!(invalid_key("source:\n  poll_interval_ms: 0\n"), "source.poll_interval_ms");
        assert_eq!(invalid_key("source:\n  kind: netlink-coexist\nkernel:\n  rules: /r\n"), "kernel.rules");
        assert_eq!(invalid_key("source:\n  kind: plugin\n  take_over: true\n"), "source.take_over");
        assert_eq!(invalid_key("kernel:\n  backlog_limit: 0\n"), "kernel.backlog_limit");
        assert_eq!(invalid_key("filters:\n  default: maybe\n"), "filters.default");
        assert_eq!(invalid_key("filters:\n  rules: [\"keep\", \"frob x=1\"]\n"), "filters.rules[1]");
        assert_eq!(invalid_key("metrics:\n  listen: \"127.0.0.1\"\n"), "metrics.listen");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_syntax_errors_naming_them() {
        for (yaml, word) in [("sourc:\n  kind: netlink\n", "sourc"), ("source:\n  kind: kafka\n", "kafka"), ("kernel:\n  backlog_limit: lots\n", "lots")] {
            match Config::from_yaml("t.yaml", yaml) {
                Err(ConfigError::Syntax { file, message }) => {
                    assert_eq!(file, "t.yaml");
                    assert!(message.contains(word), "{yaml:?}: {message}");
                }
                other => panic!("{yaml:?}: {other:?}"),
            }
        }
        assert_eq!(Config::from_yaml("t.yaml", "  \n"), Ok(Config::default()));
    }
}
