//! What the analyzer reports: TR 101 290 counters, each with a bounded list of
//! its occurrences, PIDs, services and PCR figures (serialised with the
//! standard's names).

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::collections::VecDeque;

/// Occurrences kept from the start of a stream, per indicator.
pub const OCCURRENCES_HEAD: usize = 100;
/// Most recent occurrences kept after those, per indicator (live input runs for days).
pub const OCCURRENCES_TAIL: usize = 100;

/// Where and what: stream time (see `Report::time_base`), byte offset in the
/// original file (or bytes received), the PID, and what was expected.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Occurrence {
    pub time_secs: f64,
    pub byte_offset: u64,
    pub pid: Option<u16>,
    pub detail: String,
}

/// One indicator: its count and its occurrences — the first
/// [`OCCURRENCES_HEAD`] and the latest [`OCCURRENCES_TAIL`]; `omitted` says how
/// many in between were counted but not kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorCount {
    pub count: u64,
    head: Vec<Occurrence>,
    tail: VecDeque<Occurrence>,
}

impl ErrorCount {
    pub(crate) fn hit(&mut self, at: Occurrence) {
        self.count += 1;
        if self.head.len() < OCCURRENCES_HEAD {
            self.head.push(at);
            return;
        }
        if self.tail.len() == OCCURRENCES_TAIL {
            self.tail.pop_front();
        }
        self.tail.push_back(at);
    }

    pub fn first(&self) -> Option<&Occurrence> {
        self.head.first()
    }

    pub fn last(&self) -> Option<&Occurrence> {
        self.tail.back().or(self.head.last())
    }

    /// The kept occurrences in stream order.
    pub fn occurrences(&self) -> impl Iterator<Item = &Occurrence> {
        self.head.iter().chain(self.tail.iter())
    }

    /// Occurrences counted but not kept (between the first and the latest ones).
    pub fn omitted(&self) -> u64 {
        self.count - (self.head.len() + self.tail.len()) as u64
    }
}

impl Serialize for ErrorCount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ErrorCount", 5)?;
        st.serialize_field("count", &self.count)?;
        st.serialize_field("first", &self.first())?;
        st.serialize_field("last", &self.last())?;
        st.serialize_field("occurrences", &self.occurrences().collect::<Vec<_>>())?;
        st.serialize_field("omitted", &self.omitted())?;
        st.end()
    }
}

/// TR 101 290 indicators, by the standard's names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tr101290 {
    pub ts_sync_loss: ErrorCount,
    pub sync_byte_error: ErrorCount,
    pub pat_error: ErrorCount,
    pub continuity_count_error: ErrorCount,
    pub pmt_error: ErrorCount,
    pub pid_error: ErrorCount,
    pub transport_error: ErrorCount,
    pub crc_error: ErrorCount,
    pub pcr_repetition_error: ErrorCount,
    pub pcr_discontinuity_indicator_error: ErrorCount,
    pub pcr_accuracy_error: ErrorCount,
    pub pts_error: ErrorCount,
}

/// One indicator's number, name and what it means in words.
pub struct Indicator<'a> {
    pub name: &'static str,
    pub meaning: &'static str,
    pub priority: u8,
    pub count: &'a ErrorCount,
}

impl Tr101290 {
    pub fn priority1_total(&self) -> u64 {
        self.indicators()
            .iter()
            .filter(|i| i.priority == 1)
            .map(|i| i.count.count)
            .sum()
    }

    pub fn priority2_total(&self) -> u64 {
        self.indicators()
            .iter()
            .filter(|i| i.priority == 2)
            .map(|i| i.count.count)
            .sum()
    }

    /// (name, count) of every indicator, in the standard's order.
    pub fn entries(&self) -> [(&'static str, &ErrorCount); 12] {
        self.indicators().map(|i| (i.name, i.count))
    }

    /// Every indicator with its meaning, in the standard's order.
    pub fn indicators(&self) -> [Indicator<'_>; 12] {
        let i = |name, meaning, priority, count| Indicator {
            name,
            meaning,
            priority,
            count,
        };
        [
            i("1.1 TS_sync_loss", "sync lost", 1, &self.ts_sync_loss),
            i(
                "1.2 Sync_byte_error",
                "corrupt sync bytes",
                1,
                &self.sync_byte_error,
            ),
            i(
                "1.3 PAT_error",
                "PAT missing for over 0.5 s, wrong table or scrambled",
                1,
                &self.pat_error,
            ),
            i(
                "1.4 Continuity_count_error",
                "packets lost, out of order or repeated",
                1,
                &self.continuity_count_error,
            ),
            i(
                "1.5 PMT_error",
                "PMT missing for over 0.5 s or scrambled",
                1,
                &self.pmt_error,
            ),
            i(
                "1.6 PID_error",
                "a PID the PMT lists is missing",
                1,
                &self.pid_error,
            ),
            i(
                "2.1 Transport_error",
                "packets marked as damaged (transport_error_indicator)",
                2,
                &self.transport_error,
            ),
            i("2.2 CRC_error", "tables with a bad CRC", 2, &self.crc_error),
            i(
                "2.3a PCR_repetition_error",
                "PCRs too far apart or missing",
                2,
                &self.pcr_repetition_error,
            ),
            i(
                "2.3b PCR_discontinuity_indicator_error",
                "PCR jumps without discontinuity_indicator",
                2,
                &self.pcr_discontinuity_indicator_error,
            ),
            i(
                "2.4 PCR_accuracy_error",
                "PCRs off the constant-rate line by over 500 ns",
                2,
                &self.pcr_accuracy_error,
            ),
            i(
                "2.5 PTS_error",
                "PTS missing for over 700 ms",
                2,
                &self.pts_error,
            ),
        ]
    }

    /// "ok", or which priorities failed with their top causes in words.
    pub fn verdict(&self) -> String {
        let mut parts = Vec::new();
        for priority in [1u8, 2] {
            let mut fired: Vec<_> = self
                .indicators()
                .into_iter()
                .filter(|i| i.priority == priority && i.count.count > 0)
                .collect();
            if fired.is_empty() {
                continue;
            }
            fired.sort_by_key(|i| std::cmp::Reverse(i.count.count));
            let causes: Vec<String> = fired
                .iter()
                .take(3)
                .map(|i| format!("{} × {} ({})", i.count.count, i.name, i.meaning))
                .collect();
            let more = fired.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            parts.push(format!(
                "priority {priority} failed: {}{more}",
                causes.join(", ")
            ));
        }
        if parts.is_empty() {
            "ok".into()
        } else {
            parts.join("; ")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PidReport {
    pub pid: u16,
    pub stream_type: Option<u8>,
    pub codec: String,
    pub bitrate_bps: f64,
    pub share_percent: f64,
    pub packets: u64,
    pub cc_errors: u64,
    pub scrambled: bool,
    pub has_pcr: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceReport {
    pub program_number: u16,
    pub name: Option<String>,
    pub provider: Option<String>,
    pub service_type: Option<u8>,
    pub pmt_pid: u16,
    pub pcr_pid: Option<u16>,
    pub streams: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcrReport {
    pub pid: u16,
    pub count: u64,
    pub max_interval_ms: f64,
    pub mean_interval_ms: f64,
    /// Peak-to-peak deviation of the PCR from a straight line against byte
    /// position (files) or arrival time (live), over the latest PCRs. `None`
    /// for a variable-rate file, where PCR against byte position is no
    /// straight line and the figure would only measure the rate swings.
    pub jitter_ms: Option<f64>,
    /// Largest |PCR − constant-rate fit over a window| (2.4's measure).
    pub max_accuracy_ns: f64,
    /// PCRs whose accuracy (2.4) was not judged because the rate around them
    /// varies (a VBR mux: PCR accuracy is defined against a constant rate).
    pub accuracy_not_judged: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// "ok", "empty", "not a transport stream", "truncated at byte N", or
    /// which TR 101 290 priority failed with its top causes in words.
    pub verdict: String,
    /// "188-byte TS", "192-byte M2TS (timecode prefix)" or "204-byte TS (Reed-Solomon parity)".
    pub packet_format: String,
    /// Where times come from, in words: the PCR of a PID, PTS/DTS, a given bitrate, arrival.
    pub time_base: String,
    pub bytes: u64,
    pub packets: u64,
    pub duration_secs: f64,
    pub bitrate_bps: f64,
    pub tr101290: Tr101290,
    pub services: Vec<ServiceReport>,
    pub pids: Vec<PidReport>,
    /// The first program's PCR.
    pub pcr: Option<PcrReport>,
    pub pcr_pids: Vec<PcrReport>,
    /// (time, PCR deviation in ms) of the first PCR PID, for plots.
    #[serde(skip)]
    pub pcr_deviation: Vec<(f64, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrence_lists_are_bounded_and_keep_first_and_latest() {
        let mut e = ErrorCount::default();
        for i in 0..1000u64 {
            e.hit(Occurrence {
                byte_offset: i,
                ..Default::default()
            });
        }
        assert_eq!(e.count, 1000);
        assert_eq!(e.occurrences().count(), OCCURRENCES_HEAD + OCCURRENCES_TAIL);
        assert_eq!(e.omitted(), 800);
        assert_eq!(e.first().map(|o| o.byte_offset), Some(0));
        assert_eq!(e.last().map(|o| o.byte_offset), Some(999));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["occurrences"].as_array().unwrap().len(), 200);
        assert_eq!(v["omitted"], 800);
    }

    #[test]
    fn verdict_names_the_failed_priority_and_causes() {
        let mut t = Tr101290::default();
        assert_eq!(t.verdict(), "ok");
        t.pid_error.hit(Occurrence::default());
        t.crc_error.hit(Occurrence::default());
        t.crc_error.hit(Occurrence::default());
        let v = t.verdict();
        assert!(v.starts_with("priority 1 failed: 1 × 1.6 PID_error"), "{v}");
        assert!(v.contains("priority 2 failed: 2 × 2.2 CRC_error"), "{v}");
    }
}
