//! The failover switch wired into a channel (the pure parts are in
//! `engine/switch`): every input feeds its own [`InputHealth`], the
//! [`Switch`] decides after each datagram (and on the monitor's tick), and
//! only the datagrams of the source on air — an input or the slate — pass
//! through [`TimelineRepair`] to the fan-out, cut into datagrams of at most
//! 7 packets.
//!
//! Schedule times across a switch: all inputs are stamped on one clock
//! (libsrt's: an SRT input's play time, a UDP input's arrival, the slate's
//! pacer), so the new source's times are carried as they are, shifted by a
//! constant fixed at the switch only when they would go back (the old
//! source's last time minus the new one's first; 0 when they go forward).
//! Stamping with "now" instead would throw away the SRT publisher's timing
//! (its jitter would reach the receivers); the constant keeps it.
//!
//! Before anything is on air, the inputs' datagrams are held (the last
//! 100 ms, [`HELD_US`]): when the switch first puts a source on air, its held
//! datagrams go out first, so the start of a file (its PAT, PMT and first
//! key frame, judged before sync was acquired) is not lost.

use super::{Datagram, MAX_MESSAGE};
use crate::engine::config::LoopMode;
use crate::engine::switch::{
    Health, InputHealth, Live, Switch, SwitchEvent, SwitchSettings, TimelineRepair,
};
use std::collections::VecDeque;

/// The failover state of one channel (behind the channel's lock).
pub(crate) struct Failover {
    health: Vec<InputHealth>,
    switch: Switch,
    repair: TimelineRepair,
    out: Vec<u8>,
    /// Added to the schedule times of the source on air (µs).
    shift_us: i64,
    last_sched_us: Option<i64>,
    sched_source: Option<Live>,
    /// Datagrams that came while nothing was on air: (source, payload,
    /// schedule time), the last [`HELD_MAX`].
    held: VecDeque<(Live, Vec<u8>, i64)>,
}

/// Most datagrams held while nothing is on air (a tenth of a second of a
/// 40 Mbit/s stream): enough for the switch's first judgement (sync is
/// acquired after 5 packets).
const HELD_MAX: usize = 400;
/// Nor older than this behind the newest (µs): a backup held while the
/// primary is waited for goes on air without a burst of stale data.
const HELD_US: i64 = 100_000;

impl Failover {
    pub(crate) fn new(
        settings: &SwitchSettings,
        inputs: usize,
        has_slate: bool,
        mode: LoopMode,
    ) -> Self {
        Self {
            health: (0..inputs).map(|_| InputHealth::new(settings)).collect(),
            switch: Switch::new(settings, has_slate),
            repair: TimelineRepair::new(mode),
            out: Vec::new(),
            shift_us: 0,
            last_sched_us: None,
            sched_source: None,
            held: VecDeque::new(),
        }
    }

    pub(crate) fn live(&self) -> Live {
        self.switch.live()
    }

    pub(crate) fn health(&self, now_us: i64) -> Vec<Health> {
        self.health.iter().map(|h| h.health(now_us)).collect()
    }

    /// Units the repair dropped (not TS, or held for a PCR that never came).
    pub(crate) fn dropped_packets(&self) -> u64 {
        self.repair.dropped_packets()
    }

    /// The switch looks at every input's health now.
    pub(crate) fn tick(&mut self, now_us: i64) -> Option<SwitchEvent> {
        let h = self.health(now_us);
        self.switch.decide(now_us, &h)
    }

    /// The publisher of input `input` reconnected: if it is on air, its
    /// next packet starts a new timeline segment.
    pub(crate) fn restart(&mut self, input: usize) {
        if let Some(h) = self.health.get_mut(input) {
            h.new_segment();
        }
        if self.switch.live() == Live::Input(input) {
            self.repair.restart();
        }
    }

    /// A datagram of `source` at `now_us`, judged (an input) and the switch
    /// deciding; nothing is sent (a receiver's channel sends what arrives).
    pub(crate) fn judge(
        &mut self,
        now_us: i64,
        source: Live,
        payload: &[u8],
    ) -> Option<SwitchEvent> {
        if let Live::Input(i) = source {
            if let Some(h) = self.health.get_mut(i) {
                h.feed(now_us, payload);
            }
        }
        self.tick(now_us)
    }

    /// A datagram of `source` at `now_us`, due at `sched_us`: judged (an
    /// input), the switch decides, and when `source` is on air what it
    /// yields is appended to `send`.
    pub(crate) fn datagram(
        &mut self,
        now_us: i64,
        source: Live,
        payload: &[u8],
        sched_us: i64,
        send: &mut Vec<Datagram>,
    ) -> Option<SwitchEvent> {
        let event = self.judge(now_us, source, payload);
        let live = self.switch.live();
        if live == Live::Nothing {
            while self.held.len() >= HELD_MAX
                || self
                    .held
                    .front()
                    .is_some_and(|(_, _, at)| sched_us.saturating_sub(*at) > HELD_US)
            {
                self.held.pop_front();
            }
            self.held.push_back((source, payload.to_vec(), sched_us));
            return event;
        }
        for (held_source, bytes, at) in std::mem::take(&mut self.held) {
            if held_source == live {
                self.pass(held_source, &bytes, at, send);
            }
        }
        if live == source {
            self.pass(source, payload, sched_us, send);
        }
        event
    }

    /// A datagram of the source on air through the repair, appended to `send`.
    fn pass(&mut self, source: Live, payload: &[u8], sched_us: i64, send: &mut Vec<Datagram>) {
        self.out.clear();
        // The repair's clock is the datagrams' schedule (arrival, the SRT
        // sender's time, the slate's pacer), not when this thread got to
        // them: a stall here does not move the output timeline.
        self.repair
            .process_datagram(sched_us, source, payload, &mut self.out);
        if !self.out.is_empty() {
            let sched_us = self.schedule(source, sched_us);
            send.extend(self.out.chunks(MAX_MESSAGE).map(|c| Datagram {
                payload: c.into(),
                sched_us,
            }));
        }
    }

    /// The output schedule time of a datagram of `source` due at `sched_us`.
    fn schedule(&mut self, source: Live, sched_us: i64) -> i64 {
        if self.sched_source != Some(source) {
            self.sched_source = Some(source);
            self.shift_us = self.last_sched_us.map_or(0, |l| (l - sched_us).max(0));
        }
        let t = sched_us + self.shift_us;
        let t = self.last_sched_us.map_or(t, |l| t.max(l));
        self.last_sched_us = Some(t);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_never_goes_back_across_a_switch_and_keeps_the_new_spacing() {
        let mut f = Failover::new(&SwitchSettings::default(), 2, false, LoopMode::Seamless);
        assert_eq!(f.schedule(Live::Input(0), 1_000), 1_000);
        assert_eq!(f.schedule(Live::Input(0), 2_000), 2_000);
        // The backup's clock is 500 µs behind: shifted by 500, spacing kept.
        assert_eq!(f.schedule(Live::Input(1), 1_500), 2_000);
        assert_eq!(f.schedule(Live::Input(1), 1_700), 2_200);
        // Ahead: carried as is.
        assert_eq!(f.schedule(Live::Input(0), 9_000), 9_000);
    }

    /// Seven packets on PIDs 0x100.. (one each, `pids` of them, cycling),
    /// the first with PCR `pcr_27m`, continuity counters from `cc`.
    fn datagram(pids: u16, cc: u8, pcr_27m: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for k in 0..7u16 {
            let mut p = [0xFFu8; 188];
            let pid = 0x100 + k % pids;
            p[..4].copy_from_slice(&[0x47, (pid >> 8) as u8, pid as u8, 0x30 | (cc & 0x0F)]);
            p[4..6].copy_from_slice(&[7, if k == 0 { 0x10 } else { 0 }]);
            if k == 0 {
                crate::ts::packet::write_pcr_field(&mut p[6..12], pcr_27m);
            }
            out.extend_from_slice(&p);
        }
        out
    }

    /// A publisher that stops for 1.5 s and comes back from the start of
    /// its file (PCR back to 0, continuity counters anywhere): the only
    /// input, so no switch happens; its return is a new segment all the
    /// same — no continuity burst taken for a failure (the input stays
    /// healthy), and the output's PCR goes on forward (the repair's jump
    /// rule) instead of stepping back. It steps by the silence itself, and
    /// that step is declared: the first PCR after it carries
    /// discontinuity_indicator (TR 101 290 2.3b), the others do not.
    #[test]
    fn the_live_input_back_after_a_silence_is_a_new_segment() {
        let mut f = Failover::new(&SwitchSettings::default(), 1, false, LoopMode::Seamless);
        let mut send = Vec::new();
        let ms = 1000i64;
        let mut t = 0i64;
        for n in 0..100u64 {
            t = n as i64 * 10 * ms;
            f.datagram(
                t,
                Live::Input(0),
                &datagram(5, n as u8, 5_000_000 + n * 270_000),
                t,
                &mut send,
            );
        }
        assert_eq!(f.live(), Live::Input(0));
        let before = send.len();
        for n in 0..50u64 {
            let at = t + 1500 * ms + n as i64 * 10 * ms;
            f.datagram(
                at,
                Live::Input(0),
                &datagram(5, (n as u8).wrapping_add(9), n * 270_000),
                at,
                &mut send,
            );
            assert!(f.health(at)[0].is_healthy(), "{:?}", f.health(at));
        }
        let pcr_packets: Vec<&[u8]> = send
            .iter()
            .flat_map(|d| d.payload.chunks(188))
            .filter(|p| crate::ts::packet::pcr(p).is_some())
            .collect();
        let pcrs: Vec<u64> = pcr_packets
            .iter()
            .filter_map(|p| crate::ts::packet::pcr(p))
            .collect();
        let flagged: Vec<usize> = pcr_packets
            .iter()
            .enumerate()
            .filter(|(_, p)| crate::ts::packet::discontinuity_indicator(p))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(flagged, [100], "the first PCR after the silence, alone");
        assert!(send.len() > before, "the returning input is sent");
        assert!(
            pcrs.windows(2).all(|w| w[1] > w[0]),
            "the output PCR never steps back: {:?}",
            &pcrs[95..105]
        );
    }

    /// A file's first datagram is cut at its first PCR: four packets (SDT,
    /// PAT, PMT, the first video packet), too few to acquire sync. It is
    /// held, and sent first when the input goes on air with the next.
    #[test]
    fn what_came_before_the_first_judgement_is_sent_first() {
        let mut f = Failover::new(&SwitchSettings::default(), 1, false, LoopMode::Seamless);
        let mut send = Vec::new();
        let first = datagram(5, 0, 5_000_000);
        f.datagram(0, Live::Input(0), &first[..4 * 188], 0, &mut send);
        assert_eq!(f.live(), Live::Nothing);
        assert!(send.is_empty());
        f.datagram(1000, Live::Input(0), &first[4 * 188..], 1000, &mut send);
        f.datagram(
            2000,
            Live::Input(0),
            &datagram(5, 1, 5_027_000),
            2000,
            &mut send,
        );
        assert_eq!(f.live(), Live::Input(0));
        let out: Vec<u8> = send.iter().flat_map(|d| d.payload.to_vec()).collect();
        assert_eq!(&out[..7 * 188], &first[..], "the first packets, in order");
        assert_eq!(out.len(), 14 * 188);
    }
}
