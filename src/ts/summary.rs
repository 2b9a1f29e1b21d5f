//! The report of an [`Analyzer`]: figures, PIDs, services, PCR and the
//! verdict, computed from its state at any time (live analysis asks often).

use super::analyzer::{Analyzer, PacketFormat};
use super::packet::{NULL_PID, PACKET_SIZE, PCR_HZ};
use super::report::{Occurrence, PcrReport, PidReport, Report, ServiceReport};

impl Analyzer {
    /// The report so far (call at any time; live analysis calls it repeatedly).
    pub fn report(&self) -> Report {
        if self.has_pending() {
            // Packets still waiting for their next timestamp are checked on
            // a copy, so that reading a report changes nothing.
            let mut done = self.clone();
            done.finish();
            return done.report();
        }
        let mut tr = self.tr.clone();
        self.open_gaps(&mut tr);
        // A PAT never seen is an error even in a stream shorter than the period.
        if self.saw_sync && !self.tables.pat_seen && tr.pat_error.count == 0 {
            tr.pat_error.hit(Occurrence {
                time_secs: self.time_at(self.offset),
                byte_offset: self.offset,
                pid: Some(0),
                detail: "no PAT in the stream".into(),
            });
        }
        let duration = match self.first_arrival {
            Some(_) => self.time_at(self.offset),
            None => self.clock.duration_to(self.offset),
        }
        .max(0.0);
        let per_sec = |bytes: f64| {
            if duration > 0.0 {
                bytes * 8.0 / duration
            } else {
                0.0
            }
        };
        let live = self.is_live();
        let pcr_reports: Vec<PcrReport> = self
            .pcrs
            .iter()
            .map(|(&pid, st)| PcrReport {
                pid,
                count: st.count,
                max_interval_ms: st.max_interval_ticks as f64 / PCR_HZ as f64 * 1000.0,
                mean_interval_ms: if st.intervals > 0 {
                    st.sum_interval_ticks as f64 / st.intervals as f64 / PCR_HZ as f64 * 1000.0
                } else {
                    0.0
                },
                jitter_ms: (live || st.accuracy_not_judged * 2 <= st.count)
                    .then(|| st.jitter(live).0),
                max_accuracy_ns: st.max_accuracy_ns,
                accuracy_not_judged: st.accuracy_not_judged,
            })
            .collect();
        let t = &self.tables;
        let pids: Vec<PidReport> = self
            .pids
            .iter()
            .enumerate()
            .filter(|(_, s)| s.packets > 0)
            .map(|(pid, s)| {
                // At most 8192 entries: the index is a PID.
                let pid = pid as u16;
                let es = t
                    .program_info
                    .values()
                    .flat_map(|i| i.streams.iter())
                    .find(|e| e.pid == pid);
                let codec = match (pid, es) {
                    (_, Some(e)) => e.codec,
                    (0x0000, _) => "PAT",
                    (0x0001, _) => "CAT",
                    (0x0010, _) => "NIT",
                    (0x0011, _) => "SDT/BAT",
                    (0x0012, _) => "EIT",
                    (0x0014, _) => "TDT/TOT",
                    (NULL_PID, _) => "null packets",
                    (p, None) if t.is_pmt_pid(p) => "PMT",
                    _ => "unreferenced",
                };
                PidReport {
                    pid,
                    stream_type: es.map(|e| e.stream_type),
                    codec: codec.to_string(),
                    bitrate_bps: per_sec((s.packets * PACKET_SIZE as u64) as f64),
                    share_percent: if self.packets > 0 {
                        s.packets as f64 * 100.0 / self.packets as f64
                    } else {
                        0.0
                    },
                    packets: s.packets,
                    cc_errors: s.cc_errors,
                    scrambled: s.scrambled,
                    has_pcr: self.pcrs.contains_key(&pid),
                }
            })
            .collect();
        let services: Vec<ServiceReport> = t
            .programs
            .iter()
            .map(|(&number, &pmt_pid)| {
                let info = t.program_info.get(&number);
                let sdt = t.services.get(&number);
                ServiceReport {
                    program_number: number,
                    name: sdt.and_then(|s| s.name.clone()),
                    provider: sdt.and_then(|s| s.provider.clone()),
                    service_type: sdt.and_then(|s| s.service_type),
                    pmt_pid,
                    pcr_pid: info.map(|i| i.pcr_pid),
                    streams: info
                        .map(|i| i.streams.iter().map(|s| s.pid).collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
        let first_pcr_pid = services
            .first()
            .and_then(|s| s.pcr_pid)
            .filter(|p| self.pcrs.contains_key(p))
            .or(self.pcrs.keys().next().copied());
        let pcr = first_pcr_pid.and_then(|p| pcr_reports.iter().find(|r| r.pid == p).cloned());
        let pcr_deviation = first_pcr_pid
            .and_then(|p| self.pcrs.get(&p))
            .map(|st| st.jitter(live).1)
            .unwrap_or_default();
        let partial = self.partial_bytes();
        let errors = tr.verdict();
        let verdict = if self.bytes == 0 {
            "empty".to_string()
        } else if !self.saw_sync {
            "not a transport stream".to_string()
        } else if partial > 0 {
            let cut = format!("truncated at byte {}", self.offset);
            if errors == "ok" {
                cut
            } else {
                format!("{cut}; {errors}")
            }
        } else {
            errors
        };
        Report {
            verdict,
            packet_format: self
                .format()
                .unwrap_or(PacketFormat::Ts188)
                .describe()
                .to_string(),
            time_base: if live {
                "arrival time".to_string()
            } else {
                self.clock.describe()
            },
            bytes: self.bytes,
            packets: self.packets,
            duration_secs: duration,
            bitrate_bps: per_sec((self.packets * PACKET_SIZE as u64) as f64),
            tr101290: tr,
            services,
            pids,
            pcr,
            pcr_pids: pcr_reports,
            pcr_deviation,
        }
    }
}
