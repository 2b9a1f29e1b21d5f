//! What the analyzer reports: TR 101 290 counters with their first and last
//! occurrence, PIDs, services and PCR figures (serialised with the standard's names).

use serde::Serialize;

/// Where an error happened: stream time (files: from the PCRs; live: arrival)
/// and byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Occurrence {
    pub time_secs: f64,
    pub byte_offset: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ErrorCount {
    pub count: u64,
    pub first: Option<Occurrence>,
    pub last: Option<Occurrence>,
}

impl ErrorCount {
    pub(crate) fn hit(&mut self, at: Occurrence) {
        self.count += 1;
        self.first.get_or_insert(at);
        self.last = Some(at);
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
    pub crc_error: ErrorCount,
    pub pcr_repetition_error: ErrorCount,
    pub pcr_discontinuity_indicator_error: ErrorCount,
    pub pcr_accuracy_error: ErrorCount,
    pub pts_error: ErrorCount,
}

impl Tr101290 {
    pub fn priority1_total(&self) -> u64 {
        self.ts_sync_loss.count
            + self.sync_byte_error.count
            + self.pat_error.count
            + self.continuity_count_error.count
            + self.pmt_error.count
            + self.pid_error.count
    }

    /// (name, count) of every indicator, in the standard's order.
    pub fn entries(&self) -> [(&'static str, &ErrorCount); 11] {
        [
            ("1.1 TS_sync_loss", &self.ts_sync_loss),
            ("1.2 Sync_byte_error", &self.sync_byte_error),
            ("1.3 PAT_error", &self.pat_error),
            ("1.4 Continuity_count_error", &self.continuity_count_error),
            ("1.5 PMT_error", &self.pmt_error),
            ("1.6 PID_error", &self.pid_error),
            ("2.2 CRC_error", &self.crc_error),
            ("2.3a PCR_repetition_error", &self.pcr_repetition_error),
            (
                "2.3b PCR_discontinuity_indicator_error",
                &self.pcr_discontinuity_indicator_error,
            ),
            ("2.4 PCR_accuracy_error", &self.pcr_accuracy_error),
            ("2.5 PTS_error", &self.pts_error),
        ]
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
    /// position (files) or arrival time (live).
    pub jitter_ms: f64,
    /// Largest |PCR − value predicted from the previous interval's rate|.
    pub max_accuracy_ns: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// "ok", "errors found", "empty", "not a transport stream", or "truncated at byte N".
    pub verdict: String,
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
