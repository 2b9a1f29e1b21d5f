//! The indicators about periods, kept per PID by the [`Analyzer`]: 1.6
//! PID_error (PIDs the current PMTs list), 2.5 PTS_error, 2.3a for a PCR PID
//! that carries no PCR or whose PCRs stop, and the 1.3/1.5 repetition checks of the tables —
//! each raised once per gap, when it arrives late or at the periodic check,
//! and counted at the end of the input when still open.

use super::analyzer::Analyzer;
use super::report::{Occurrence, Tr101290};
use super::timebase::Gap;

impl Analyzer {
    pub(crate) fn on_pes_timestamp(
        &mut self,
        pid: u16,
        pts: Option<u64>,
        dts: Option<u64>,
        offset: u64,
    ) {
        let _ = dts;
        if pts.is_none() {
            return;
        }
        let now = self.time_at(offset);
        let limit = self.cfg.pts_repetition_ms / 1e3;
        let st = &mut self.pids[usize::from(pid)];
        let late = match st.pts.as_mut() {
            Some(g) => g.arrive(now, limit),
            None => {
                st.pts = Some(Gap::new(now));
                if !self.watched.contains(&pid) {
                    self.watched.push(pid);
                }
                None
            }
        };
        if let Some(gap) = late {
            let d = format!(
                "no PTS for {:.0} ms, limit {:.0} ms",
                gap * 1e3,
                limit * 1e3
            );
            let o = self.occurrence(Some(pid), d);
            self.tr.pts_error.hit(o);
        }
    }

    /// The PAT or PMTs changed: follow the PIDs they refer to now.
    pub(crate) fn update_references(&mut self, now: f64) {
        // The first programme's PCR PID times the file.
        if let Some(info) = self.tables.program_info.values().next() {
            if info.pcr_pid != super::packet::NULL_PID && self.live_time.is_none() {
                self.clock.prefer_pcr(info.pcr_pid);
            }
        }
        for st in self.pids.iter_mut() {
            st.pmt = false;
        }
        for &pmt_pid in self.tables.programs.values() {
            self.pids[usize::from(pmt_pid & 0x1FFF)].pmt = true;
        }
        let refs = self.tables.references();
        for &pid in &self.watched {
            let st = &mut self.pids[usize::from(pid)];
            if !refs.iter().any(|r| r.0 == pid) && st.reference.is_some() {
                // Dropped from its PMT: no longer expected, nor its PTS.
                st.reference = None;
                st.pts = None;
            }
            if !refs.iter().any(|r| r.0 == pid && r.2) {
                st.pcr_named = None;
            }
        }
        for &(pid, program, is_pcr) in &refs {
            let st = &mut self.pids[usize::from(pid)];
            st.reference.get_or_insert(Gap::new(now));
            if is_pcr && st.pcr_named.is_none() {
                let has_pcr = self.pcrs.contains_key(&pid);
                st.pcr_named = Some((program, Gap::new(now), has_pcr));
            }
            if !self.watched.contains(&pid) {
                self.watched.push(pid);
            }
        }
    }

    pub(crate) fn periodic_checks(&mut self, now: f64) {
        let offset = self.offset;
        let psi = self.cfg.psi_period_ms / 1e3;
        self.tables.check_gaps(now, offset, psi, &mut self.tr);
        let pid_limit = self.cfg.pid_timeout_ms / 1e3;
        let pts_limit = self.cfg.pts_repetition_ms / 1e3;
        let pcr_limit = self.cfg.pcr_repetition_ms / 1e3;
        for &pid in &self.watched {
            let st = &mut self.pids[usize::from(pid)];
            let at = |detail: String| Occurrence {
                time_secs: now,
                byte_offset: offset,
                pid: Some(pid),
                detail,
            };
            if let Some(gap) = st.reference.as_mut().and_then(|g| g.check(now, pid_limit)) {
                let d = if st.packets == 0 {
                    format!("PID listed in the PMT never seen ({gap:.3} s)")
                } else {
                    format!("PID absent for {gap:.3} s")
                };
                self.tr.pid_error.hit(at(d));
            }
            if let Some(gap) = st.pts.as_mut().and_then(|g| g.check(now, pts_limit)) {
                let d = format!(
                    "no PTS for {:.0} ms, limit {:.0} ms",
                    gap * 1e3,
                    pts_limit * 1e3
                );
                self.tr.pts_error.hit(at(d));
            }
            if let Some((program, gap, seen)) = st.pcr_named.as_mut() {
                if let Some(d) = pcr_absent(*program, gap, *seen, now, pcr_limit) {
                    self.tr.pcr_repetition_error.hit(at(d));
                }
            }
        }
    }

    /// Indicators whose gap is still open at the end of what was pushed (a
    /// PAT, PMT, PID or PTS that never came back), counted into `tr`.
    pub(crate) fn open_gaps(&self, tr: &mut Tr101290) {
        let now = self.time_at(self.offset);
        let offset = self.offset;
        self.tables
            .open_gaps(now, offset, self.cfg.psi_period_ms / 1e3, tr);
        for &pid in &self.watched {
            let st = &self.pids[usize::from(pid)];
            let at = |detail: String| Occurrence {
                time_secs: now,
                byte_offset: offset,
                pid: Some(pid),
                detail,
            };
            if let Some(mut g) = st.reference {
                if let Some(gap) = g.check(now, self.cfg.pid_timeout_ms / 1e3) {
                    tr.pid_error
                        .hit(at(format!("PID absent for {gap:.3} s at the end")));
                }
            }
            if let Some(mut g) = st.pts {
                if let Some(gap) = g.check(now, self.cfg.pts_repetition_ms / 1e3) {
                    let d = format!("no PTS for {:.0} ms at the end", gap * 1e3);
                    tr.pts_error.hit(at(d));
                }
            }
            if let Some((program, mut gap, seen)) = st.pcr_named {
                let limit = self.cfg.pcr_repetition_ms / 1e3;
                if let Some(d) = pcr_absent(program, &mut gap, seen, now, limit) {
                    tr.pcr_repetition_error.hit(at(d));
                }
            }
        }
    }
}

/// PCRs absent this long on a PCR PID that had them have stopped (a gap that
/// ends sooner is counted by its PCR difference when the next PCR arrives;
/// live, a shorter wait would count network stalls).
pub const PCR_STOPPED_SECS: f64 = 1.0;

/// 2.3a on a PMT's PCR PID without PCRs: none within the limit since it was
/// named, or, once PCRs came, none for [`PCR_STOPPED_SECS`].
fn pcr_absent(program: u16, gap: &mut Gap, seen: bool, now: f64, limit: f64) -> Option<String> {
    let threshold = if seen {
        limit.max(PCR_STOPPED_SECS)
    } else {
        limit
    };
    let secs = gap.check(now, threshold)?;
    Some(if seen {
        format!(
            "no PCR for {:.0} ms on the PCR PID of program {program}",
            secs * 1e3
        )
    } else {
        format!("PID named as PCR PID by the PMT of program {program} carries no PCR")
    })
}
