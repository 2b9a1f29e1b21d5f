//! What a transcoding output watches once a second: the transcoder's CPU,
//! how far behind real time it is (the alarm when it cannot keep up, with
//! its CPU figure), whether it makes anything from what comes in (the
//! programme asked for may not be there), and when to start it again.

use super::status::TranscodeStatus;
use crate::ts::packet::{self, PACKET_SIZE};
use crate::ts::psi::{self, SectionAssembler, SectionEvent};
use std::time::{Duration, Instant};

/// Behind real time by more than this raises the alarm…
pub(crate) const ALARM_BEHIND: Duration = Duration::from_secs(1);
/// …cleared once back under this…
const CLEAR_BEHIND: Duration = Duration::from_millis(500);
/// …either for this many ticks (seconds) in a row: a passing stall of the
/// machine is not an alarm.
const TICKS_TO_CHANGE: u32 = 3;
/// Input waiting longer than this is dropped, not queued.
pub(crate) const MAX_QUEUED_SECS: f64 = 3.0;
/// Input for this long and nothing made: started again.
const NO_OUTPUT: Duration = Duration::from_secs(5);
/// Waits before a restart: doubled each time, up to the last.
const BACKOFF: [u64; 6] = [1, 2, 4, 8, 16, 30];

/// What the output thread is told to do after a tick.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    Fine,
    /// Start the transcoder again (it failed or made nothing).
    Restart,
}

/// Something to tell in the channel's events: (text, alarm).
pub(crate) type News = Vec<(String, bool)>;

pub(crate) struct Watch {
    pub(crate) status: TranscodeStatus,
    program: Option<u16>,
    /// The input's programmes (from its PAT), once seen.
    programs: Option<Vec<u16>>,
    pat: SectionAssembler,
    last_tick: Instant,
    last_ticks: u64,
    input_bytes: u64,
    input_rate: f64,
    /// Since when input came with nothing made (the transcoder's start, or
    /// its last output).
    silent_since: Instant,
    restart_at: Option<Instant>,
    backoff: usize,
    good_since: Option<Instant>,
    /// The error already told (told again only when it changes).
    told: Option<String>,
    /// Output behind its pace, µs (arrival + hold − due), latest.
    pub(crate) late_us: i64,
    /// Something was made since the last failure.
    made: bool,
    /// Ticks in a row the alarm's state was not what it shows.
    against: u32,
}

impl Watch {
    pub(crate) fn new(profile: &str, program: Option<u16>) -> Self {
        let now = Instant::now();
        Self {
            status: TranscodeStatus {
                profile: profile.to_string(),
                ..Default::default()
            },
            program,
            programs: None,
            pat: SectionAssembler::default(),
            last_tick: now,
            last_ticks: 0,
            input_bytes: 0,
            input_rate: 0.0,
            silent_since: now,
            restart_at: None,
            backoff: 0,
            good_since: None,
            told: None,
            late_us: 0,
            made: false,
            against: 0,
        }
    }

    /// One input datagram: counted; its PAT read for the programme list.
    pub(crate) fn input(&mut self, payload: &[u8]) {
        self.input_bytes += payload.len() as u64;
        if self.program.is_none() {
            return;
        }
        for p in payload.chunks_exact(PACKET_SIZE) {
            if p[0] != packet::SYNC_BYTE || packet::pid(p) != 0 {
                continue;
            }
            for e in self.pat.push(p) {
                if let SectionEvent::Section(s) = e {
                    if let Some(map) = psi::parse_pat(&s) {
                        let mut list: Vec<u16> = map.keys().copied().collect();
                        list.sort_unstable();
                        self.programs = Some(list);
                    }
                }
            }
        }
    }

    /// The transcoder made something.
    pub(crate) fn output(&mut self) {
        self.silent_since = Instant::now();
        self.made = true;
    }

    /// Seconds of input waiting in the transcoder.
    pub(crate) fn queued_secs(&self, queued_bytes: u64) -> f64 {
        if self.input_rate <= 0.0 {
            return 0.0;
        }
        queued_bytes as f64 / self.input_rate
    }

    /// A new transcoder runs: its figures start again.
    pub(crate) fn started(&mut self) {
        self.silent_since = Instant::now();
        self.last_ticks = 0;
        self.restart_at = None;
        self.late_us = 0;
    }

    /// The transcoder could not start or failed: say why (once), and when
    /// to try again.
    pub(crate) fn failed(&mut self, why: String, retry: bool, news: &mut News) {
        if self.told.as_deref() != Some(why.as_str()) {
            let again = if retry {
                format!("; trying again in {} s", BACKOFF[self.backoff])
            } else {
                String::new()
            };
            news.push((format!("transcoding stopped: {why}{again}"), true));
            self.told = Some(why.clone());
        }
        self.status.error = Some(why);
        self.made = false;
        self.good_since = None;
        self.restart_at =
            retry.then(|| Instant::now() + Duration::from_secs(BACKOFF[self.backoff]));
        self.backoff = (self.backoff + 1).min(BACKOFF.len() - 1);
    }

    /// Time to start again?
    pub(crate) fn restart_due(&self) -> bool {
        self.restart_at.is_some_and(|t| Instant::now() >= t)
    }

    /// Once a second: the figures, the alarm, the verdict.
    pub(crate) fn tick(
        &mut self,
        running: Option<(&crate::media::transcode::Transcoder, u64)>,
        news: &mut News,
    ) -> Verdict {
        let now = Instant::now();
        let secs = now.duration_since(self.last_tick).as_secs_f64().max(1e-3);
        self.last_tick = now;
        let got = std::mem::take(&mut self.input_bytes);
        self.input_rate = 0.5 * self.input_rate + 0.5 * got as f64 / secs;
        let Some((t, dropped_before)) = running else {
            return Verdict::Fine;
        };
        let ticks = t.cpu_ticks();
        let used = ticks.saturating_sub(self.last_ticks) as f64;
        self.last_ticks = ticks;
        self.status.cpu_percent =
            (used / crate::media::transcode::TICKS_PER_SEC / secs * 1000.0).round() / 10.0;
        let st = t.status();
        self.status.inputs = st.inputs;
        self.status.dropped_input_bytes = dropped_before + st.dropped_bytes;
        let queued = Duration::from_secs_f64(self.queued_secs(t.queued_bytes()));
        let late = Duration::from_micros(self.late_us.max(0) as u64);
        let behind = queued.max(late);
        self.status.behind_ms = behind.as_millis() as u64;
        self.alarm(behind, news);
        if let Some(e) = st.error {
            self.failed(e, true, news);
            return Verdict::Restart;
        }
        if got > 0 && now.duration_since(self.silent_since) >= NO_OUTPUT {
            let why = self.why_silent();
            self.failed(why, true, news);
            return Verdict::Restart;
        }
        if !self.made {
            return Verdict::Fine;
        }
        if self.status.error.take().is_some() {
            news.push(("transcoding again".to_string(), false));
            self.told = None;
        }
        let good = *self.good_since.get_or_insert(now);
        if now.duration_since(good) >= Duration::from_secs(30) {
            self.backoff = 0;
        }
        Verdict::Fine
    }

    fn alarm(&mut self, behind: Duration, news: &mut News) {
        let cpu = self.status.cpu_percent;
        let secs = behind.as_secs_f64();
        let change = if self.status.too_slow {
            behind < CLEAR_BEHIND
        } else {
            behind > ALARM_BEHIND
        };
        self.against = if change { self.against + 1 } else { 0 };
        if self.against < TICKS_TO_CHANGE {
            return;
        }
        self.against = 0;
        if !self.status.too_slow {
            self.status.too_slow = true;
            news.push((
                format!(
                    "transcoding cannot keep up: {secs:.1} s behind real time at {cpu:.0} % CPU (100 % = one core); \
                     input beyond {MAX_QUEUED_SECS:.0} s is dropped: choose a lighter profile (faster preset, smaller size) or a faster machine"
                ),
                true,
            ));
        } else {
            self.status.too_slow = false;
            news.push((
                format!("transcoding caught up: {secs:.1} s behind, {cpu:.0} % CPU"),
                false,
            ));
        }
    }

    /// Why input comes and nothing is made.
    fn why_silent(&self) -> String {
        match (self.program, &self.programs) {
            (Some(p), Some(list)) if !list.contains(&p) => {
                let list: Vec<String> = list.iter().map(|n| n.to_string()).collect();
                format!(
                    "programme {p} is not in the input (its programmes: {}): set the profile's `program`",
                    if list.is_empty() { "none".to_string() } else { list.join(", ") }
                )
            }
            _ if self.status.inputs.is_empty() => format!(
                "nothing made for {} s: no audio or video found in the input (is it an MPEG transport stream?)",
                NO_OUTPUT.as_secs()
            ),
            _ => format!(
                "nothing made for {} s from {}",
                NO_OUTPUT.as_secs(),
                self.status.inputs.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behind(w: &mut Watch, ms: u64) -> News {
        let mut news = News::new();
        w.alarm(Duration::from_millis(ms), &mut news);
        news
    }

    #[test]
    fn the_alarm_takes_three_seconds_behind_and_three_caught_up() {
        let mut w = Watch::new("heavy", None);
        w.status.cpu_percent = 187.0;
        assert!(behind(&mut w, 1500).is_empty());
        assert!(behind(&mut w, 200).is_empty(), "a passing stall");
        assert!(behind(&mut w, 1500).is_empty());
        assert!(behind(&mut w, 1600).is_empty());
        let news = behind(&mut w, 1700);
        assert_eq!(news.len(), 1);
        assert!(news[0].1, "an alarm");
        assert!(
            news[0].0.contains("1.7 s behind") && news[0].0.contains("187 % CPU"),
            "{news:?}"
        );
        assert!(w.status.too_slow);
        assert!(behind(&mut w, 2500).is_empty(), "told once");
        for _ in 0..2 {
            assert!(behind(&mut w, 100).is_empty());
        }
        let news = behind(&mut w, 100);
        assert!(!news[0].1 && news[0].0.contains("caught up"), "{news:?}");
        assert!(!w.status.too_slow);
    }

    #[test]
    fn a_missing_programme_is_named_with_those_there_are() {
        let mut w = Watch::new("p7", Some(7));
        // A PAT with programmes 1 and 2.
        let mut p = [0xFFu8; PACKET_SIZE];
        let section = [
            0x00, 0xB0, 0x11, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xE1, 0x00, 0x00, 0x02,
            0xE1, 0x01,
        ];
        let crc = psi::crc32_mpeg2(&section);
        p[..5].copy_from_slice(&[0x47, 0x40, 0x00, 0x10, 0x00]);
        p[5..5 + section.len()].copy_from_slice(&section);
        p[5 + section.len()..9 + section.len()].copy_from_slice(&crc.to_be_bytes());
        w.input(&p);
        let why = w.why_silent();
        assert!(
            why.contains("programme 7 is not in the input (its programmes: 1, 2)"),
            "{why}"
        );
        let mut news = News::new();
        w.failed(why, true, &mut news);
        w.failed(w.status.error.clone().unwrap_or_default(), true, &mut news);
        assert_eq!(news.len(), 1, "told once while it stays the same");
        assert!(news[0].0.contains("trying again in 1 s"), "{news:?}");
    }
}
