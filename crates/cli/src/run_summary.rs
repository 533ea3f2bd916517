//! The summary of one `auditmesh parse` run: what was read, what came out, what was lost or
//! damaged — as a paragraph for people and as one JSON object for machines (both on stderr).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use assemble::{Completion, Stats};
use render::json;

const COMPLETIONS: [Completion; 6] = [
    Completion::Eoe,
    Completion::Standalone,
    Completion::Proctitle,
    Completion::Timeout,
    Completion::Evicted,
    Completion::EndOfInput,
];

/// Counters of a run.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub inputs: u64,
    pub unreadable_inputs: u64,
    pub lines: u64,
    pub bytes: u64,
    pub assembler: Stats,
    /// Lines that could not be framed, lines cut at the limit, and damaged values, by kind.
    pub diagnostics: BTreeMap<&'static str, u64>,
    pub elapsed: Duration,
}

impl RunSummary {
    fn records_per_sec(&self) -> u64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { (self.assembler.records as f64 / secs) as u64 } else { 0 }
    }

    /// Returns the one-paragraph summary, without a trailing newline.
    pub fn paragraph(&self) -> String {
        let s = &self.assembler;
        let mut p = String::new();
        let _ = write!(
            p,
            "auditmesh parse: {} lines ({} bytes) from {} input(s) in {:.3} s ({} records/s): {} records in {} events ({} partial; completed by",
            self.lines,
            self.bytes,
            self.inputs,
            self.elapsed.as_secs_f64(),
            self.records_per_sec(),
            s.records,
            s.events,
            s.partial_events,
        );
        for (i, how) in COMPLETIONS.iter().enumerate() {
            let _ = write!(p, "{} {} {}", if i == 0 { "" } else { "," }, how.as_str(), s.completed(*how));
        }
        let _ = write!(
            p,
            "); {} duplicate records, {} late records, {} evicted events; {} serial gaps ({} missing serials), {} serial resets; diagnostics:",
            s.duplicate_records, s.late_records, s.evicted_events, s.serial_gaps, s.missing_serials, s.serial_resets,
        );
        if self.diagnostics.is_empty() {
            p.push_str(" none");
        }
        for (i, (kind, n)) in self.diagnostics.iter().enumerate() {
            let _ = write!(p, "{} {kind} {n}", if i == 0 { "" } else { "," });
        }
        if self.unreadable_inputs > 0 {
            let _ = write!(p, "; {} input(s) could not be read", self.unreadable_inputs);
        }
        p.push('.');
        p
    }

    /// Returns the summary as one JSON object, without a trailing newline.
    pub fn json(&self) -> String {
        let s = &self.assembler;
        let mut out = b"{".to_vec();
        let counters = [
            ("inputs", self.inputs),
            ("unreadable_inputs", self.unreadable_inputs),
            ("lines", self.lines),
            ("bytes", self.bytes),
            ("records", s.records),
            ("events", s.events),
            ("partial_events", s.partial_events),
        ];
        for (name, n) in counters {
            json::key(&mut out, name);
            json::u64(&mut out, n);
        }
        json::key(&mut out, "completion");
        out.push(b'{');
        for how in COMPLETIONS {
            json::key(&mut out, how.as_str());
            json::u64(&mut out, s.completed(how));
        }
        out.push(b'}');
        let counters = [
            ("duplicate_records", s.duplicate_records),
            ("late_records", s.late_records),
            ("evicted_events", s.evicted_events),
            ("serial_gaps", s.serial_gaps),
            ("missing_serials", s.missing_serials),
            ("serial_resets", s.serial_resets),
        ];
        for (name, n) in counters {
            json::key(&mut out, name);
            json::u64(&mut out, n);
        }
        json::key(&mut out, "diagnostics");
        out.push(b'{');
        for (kind, n) in &self.diagnostics {
            json::key(&mut out, kind);
            json::u64(&mut out, *n);
        }
        out.push(b'}');
        json::key(&mut out, "elapsed_s");
        out.extend_from_slice(format!("{:.6}", self.elapsed.as_secs_f64()).as_bytes());
        json::key(&mut out, "records_per_sec");
        json::u64(&mut out, self.records_per_sec());
        out.push(b'}');
        String::from_utf8(out).expect("the JSON writer emits UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraph_and_json_agree() {
        let mut summary = RunSummary { inputs: 1, lines: 3, bytes: 120, elapsed: Duration::from_millis(2), ..RunSummary::default() };
        summary.assembler.records = 2;
        summary.assembler.events = 1;
        summary.assembler.by_completion[Completion::Proctitle as usize] = 1;
        summary.diagnostics.insert("no_record_type", 1);
        assert_eq!(
            summary.paragraph(),
            "auditmesh parse: 3 lines (120 bytes) from 1 input(s) in 0.002 s (1000 records/s): 2 records in 1 events (0 partial; \
             completed by eoe 0, standalone 0, proctitle 1, timeout 0, evicted 0, end_of_input 0); 0 duplicate records, \
             0 late records, 0 evicted events; 0 serial gaps (0 missing serials), 0 serial resets; diagnostics: no_record_type 1."
        );
        assert_eq!(
            summary.json(),
            r#"{"inputs":1,"unreadable_inputs":0,"lines":3,"bytes":120,"records":2,"events":1,"partial_events":0,"completion":{"eoe":0,"standalone":0,"proctitle":1,"timeout":0,"evicted":0,"end_of_input":0},"duplicate_records":0,"late_records":0,"evicted_events":0,"serial_gaps":0,"missing_serials":0,"serial_resets":0,"diagnostics":{"no_record_type":1},"elapsed_s":0.002000,"records_per_sec":1000}"#
        );
    }
}
