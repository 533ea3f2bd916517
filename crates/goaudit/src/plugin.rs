//! auditd plugin mode: what auditd's dispatcher sends a plugin, and why it needs no code here.
//!
//! auditd (3.x) starts every active plugin listed in `/etc/audit/plugins.d/*.conf` as a child
//! process and writes each event to the child's standard input. With `format = string` (the
//! default) each record is written as one line of text in exactly the form auditd writes to
//! `audit.log`: `[node=N ]type=NAME msg=audit(SEC.MSEC:SERIAL): BODY`, with the ENRICHED suffix
//! after `\x1d` when `log_format = ENRICHED`, and with the EOE record that closes each multi-record
//! event. (`format = binary` would instead pass auditd's internal structures, which nothing here
//! reads.) That is the input `parse::parse_line` and `assemble::Assembler` already take, so a
//! plugin is `auditmesh parse -` reading standard input: the assembler sees EOE records and
//! completes events on them (`EoeMode::Auto`).
//!
//! No example configuration ships yet: `auditmesh parse -` writes to standard output, which a
//! plugin cannot use (see below); it comes with the agent's `--output`. The format of such a
//! file (auditd-plugins(5), auditd 3.0.9): one `key = value` per line; `active` (`yes`/`no`),
//! `direction` (`out`; inbound is not supported), `path` (absolute path of the executable),
//! `type` (`always` for a separate program; `builtin` is for auditd's own), `args` (at most two
//! arguments) and `format` (`string` or `binary`). A file name with more than one `.` is skipped
//! as a backup copy.
//!
//! What a plugin must do, which is the agent's business rather than this module's:
//! - read standard input as fast as it arrives — auditd queues at most `q_depth` events for its
//!   plugins, and when that queue is full the kernel's backlog fills behind it;
//! - write its output somewhere other than standard output: a plugin's standard output is
//!   whatever auditd's was, which for the daemon is not a place to keep events;
//! - exit when standard input ends (auditd stopped) and reload on SIGHUP; auditd restarts a plugin
//!   that exits at most `max_restarts` times.
