//! Every audit log in the shared corpus through the parser and the assembler: no panic, and every
//! input line accounted for — a framing error with its bytes, a record in exactly one emitted
//! event, or a counted duplicate. The per-file figures are snapshotted so that any change in how
//! the corpus is read shows up in review.
//!
//! What this test does not check is what the records mean; `hard_cases.rs` and
//! `ausearch_diff.rs` assert decoded values.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use assemble::Config;
use conformance::{corpus_dir, lines, run, Run};
use parse::{decode, DiagnosticKind, Fields, RawValue};

/// The go-audit output holds JSON objects after a syslog prefix, not audit lines: every line must
/// come out as a framing diagnostic, none as a record.
const JSON_ONLY: &str = "public/rhonnava_auditNG/go-audit-container.syslog";

/// Returns true for corpus files that hold audit lines. Golden outputs (`.json`, `.golden`), test
/// definitions (`.yaml`), rule files (`.rules`, `rules.loaded.txt`), `auditctl -s` status files,
/// dictionaries (`.csv`), auparse's expected output (`.ref`) and READMEs are not logs.
fn holds_audit_lines(relative: &Path) -> bool {
    let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name.starts_with("README") || name.starts_with("status.") || name == "rules.loaded.txt" {
        return false;
    }
    matches!(relative.extension().and_then(|e| e.to_str()), Some("log" | "txt" | "syslog"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The corpus logs, as paths relative to the corpus folder, sorted.
fn corpus_logs(corpus: &Path) -> Vec<String> {
    let mut all = Vec::new();
    walk(corpus, &mut all);
    let mut logs: Vec<String> = all
        .iter()
        .map(|p| p.strip_prefix(corpus).expect("under the corpus").to_path_buf())
        .filter(|p| holds_audit_lines(p))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    logs.sort();
    logs
}

/// One row of the table.
struct FileReport {
    lines: usize,
    records: u64,
    events: usize,
    partial: usize,
    duplicates: u64,
    late: u64,
    missing_serials: u64,
    /// Free-text parts of bodies (`avc:  denied  { read } for`, legacy `PAM: …`): kept, not lost.
    text_fields: usize,
    /// Framing errors and field diagnostics, by kind.
    diagnostics: BTreeMap<&'static str, usize>,
}

/// Runs one log and checks that every line is accounted for; returns the report or what is wrong.
fn check_log(bytes: &[u8]) -> (FileReport, Vec<String>) {
    let input: Vec<&[u8]> = lines(bytes).collect();
    let run = run(bytes, Config::default());
    let mut problems = Vec::new();

    // The line as the parser reports it: without the `\r` of a `\r\n` ending.
    let key = |l: &[u8]| -> Vec<u8> { l.strip_suffix(b"\r").unwrap_or(l).to_vec() };
    let mut remaining: HashMap<Vec<u8>, i64> = HashMap::new();
    for line in &input {
        *remaining.entry(key(line)).or_default() += 1;
    }
    let mut take = |line: &[u8], what: &str, problems: &mut Vec<String>| {
        let count = remaining.entry(line.to_vec()).or_default();
        *count -= 1;
        if *count < 0 {
            problems.push(format!(
                "{what} is not an input line, or is emitted more often than it was read: {}",
                show(line)
            ));
        }
    };
    for (_, line) in &run.framing_errors {
        take(line, "a framing error's line", &mut problems);
    }
    let mut emitted: HashSet<Vec<u8>> = HashSet::new();
    for event in &run.events {
        for record in event.records() {
            take(record.line, "a record line", &mut problems);
            emitted.insert(record.line.to_vec());
        }
    }
    let duplicates: u64 = run.events.iter().map(|e| u64::from(e.duplicate_records)).sum();
    let mut unaccounted = 0u64;
    for (line, &count) in &remaining {
        if count > 0 {
            unaccounted += count as u64;
            if !emitted.contains(line) {
                problems.push(format!(
                    "{count} input line(s) lost: neither a framing error, a record, nor a duplicate of one: {}",
                    show(line)
                ));
            }
        }
    }
    if unaccounted != duplicates {
        problems.push(format!(
            "{unaccounted} input lines are not in any event, but the events count {duplicates} duplicate records"
        ));
    }
    check_stats(&run, input.len(), duplicates, &mut problems);

    let mut diagnostics: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (kind, _) in &run.framing_errors {
        *diagnostics.entry(kind.as_str()).or_default() += 1;
    }
    let mut text_fields = 0;
    for event in &run.events {
        for record in event.records() {
            for field in Fields::new(record.body) {
                let field_diagnostics = [field.diagnostic, decode(record.record_type, field.name, field.value).1];
                for kind in field_diagnostics.into_iter().flatten() {
                    *diagnostics.entry(kind.as_str()).or_default() += 1;
                }
                if matches!(field.value, RawValue::Text(_)) {
                    text_fields += 1;
                }
            }
        }
    }
    let report = FileReport {
        lines: input.len(),
        records: run.stats.records,
        events: run.events.len(),
        partial: run.events.iter().filter(|e| e.is_partial()).count(),
        duplicates,
        late: run.stats.late_records,
        missing_serials: run.stats.missing_serials,
        text_fields,
        diagnostics,
    };
    (report, problems)
}

/// The assembler's own counters must agree with what it emitted.
fn check_stats(run: &Run, input_lines: usize, duplicates: u64, problems: &mut Vec<String>) {
    let s = &run.stats;
    let framed = (input_lines - run.framing_errors.len()) as u64;
    let in_events: u64 = run.events.iter().map(|e| e.len() as u64).sum();
    let partial = run.events.iter().filter(|e| e.is_partial()).count() as u64;
    let checks = [
        ("stats.records vs framed lines", s.records, framed),
        ("stats.records vs records in events + duplicates", s.records, in_events + duplicates),
        ("stats.events vs emitted events", s.events, run.events.len() as u64),
        ("stats.duplicate_records vs the events' duplicate_records", s.duplicate_records, duplicates),
        ("stats.partial_events vs partial emitted events", s.partial_events, partial),
        ("sum of stats.by_completion vs stats.events", s.by_completion.iter().sum(), s.events),
        (
            "stats.missing_serials vs reported gaps",
            s.missing_serials,
            run.gaps.iter().map(|g| u64::from(g.count)).sum(),
        ),
        ("stats.serial_gaps vs reported gaps", s.serial_gaps, run.gaps.len() as u64),
    ];
    for (what, got, expected) in checks {
        if got != expected {
            problems.push(format!("{what}: {got} != {expected}"));
        }
    }
}

fn show(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let cut: String = text.chars().take(160).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

fn table(rows: &[(String, Result<FileReport, String>)]) -> String {
    let width = rows.iter().map(|(f, _)| f.len()).max().unwrap_or(4);
    let mut out = String::new();
    writeln!(
        out,
        "{:<width$} {:>6} {:>7} {:>6} {:>7} {:>4} {:>4} {:>7} {:>5}  diagnostics",
        "file", "lines", "records", "events", "partial", "dups", "late", "missing", "text"
    )
    .unwrap();
    let mut total = [0u64; 8];
    for (file, report) in rows {
        match report {
            Ok(r) => {
                let diagnostics: Vec<String> = r.diagnostics.iter().map(|(k, n)| format!("{k}={n}")).collect();
                writeln!(
                    out,
                    "{file:<width$} {:>6} {:>7} {:>6} {:>7} {:>4} {:>4} {:>7} {:>5}  {}",
                    r.lines,
                    r.records,
                    r.events,
                    r.partial,
                    r.duplicates,
                    r.late,
                    r.missing_serials,
                    r.text_fields,
                    diagnostics.join(" ")
                )
                .unwrap();
                let row = [
                    r.lines as u64,
                    r.records,
                    r.events as u64,
                    r.partial as u64,
                    r.duplicates,
                    r.late,
                    r.missing_serials,
                    r.text_fields as u64,
                ];
                for (t, v) in total.iter_mut().zip(row) {
                    *t += v;
                }
            }
            Err(panic) => writeln!(out, "{file:<width$} PANICKED: {panic}").unwrap(),
        }
    }
    let [l, r, e, p, d, late, m, t] = total;
    writeln!(
        out,
        "{:<width$} {l:>6} {r:>7} {e:>6} {p:>7} {d:>4} {late:>4} {m:>7} {t:>5}",
        format!("total ({} files)", rows.len())
    )
    .unwrap();
    // No trailing spaces (rows without diagnostics), which editors would strip from the snapshot.
    out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}

#[test]
fn every_line_of_every_corpus_log_is_accounted_for() {
    let corpus = corpus_dir();
    let logs = corpus_logs(&corpus);
    assert!(
        logs.len() >= 100,
        "only {} audit logs found under {}: is the corpus complete?",
        logs.len(),
        corpus.display()
    );
    assert!(logs.iter().any(|f| f == JSON_ONLY), "{JSON_ONLY} is not in the corpus any more");

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for file in &logs {
        let bytes = std::fs::read(corpus.join(file)).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        let outcome = catch_unwind(AssertUnwindSafe(|| check_log(&bytes)));
        match outcome {
            Ok((report, problems)) => {
                for p in problems {
                    failures.push(format!("{file}: {p}"));
                }
                if file == JSON_ONLY
                    && (report.records != 0 || report.diagnostics.values().sum::<usize>() != report.lines)
                {
                    failures.push(format!("{file}: every go-audit JSON line must be a framing diagnostic"));
                }
                rows.push((file.clone(), Ok(report)));
            }
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "non-string panic payload".into());
                failures.push(format!("{file}: panicked: {message}"));
                rows.push((file.clone(), Err(message)));
            }
        }
    }
    let table = table(&rows);
    println!("{table}");
    assert!(failures.is_empty(), "{} corpus problem(s):\n{}", failures.len(), failures.join("\n"));
    insta::assert_snapshot!("corpus_table", table);
}

#[test]
fn a_json_only_file_is_all_diagnostics() {
    // Pins down the exact diagnostic for go-audit's syslog + JSON lines: no `type=` field.
    let bytes = conformance::read_corpus(JSON_ONLY);
    let run = run(&bytes, Config::default());
    let kinds: Vec<DiagnosticKind> = run.framing_errors.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, [DiagnosticKind::NoRecordType; 3]);
    assert!(run.events.is_empty());
}
