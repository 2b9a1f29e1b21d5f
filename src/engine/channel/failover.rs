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

use super::{Datagram, MAX_MESSAGE};
use crate::engine::config::LoopMode;
use crate::engine::switch::{
    Health, InputHealth, Live, Switch, SwitchEvent, SwitchSettings, TimelineRepair,
};

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
}

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
        if self.switch.live() == Live::Input(input) {
            self.repair.restart();
        }
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
        if let Live::Input(i) = source {
            if let Some(h) = self.health.get_mut(i) {
                h.feed(now_us, payload);
            }
        }
        let event = self.tick(now_us);
        if self.switch.live() != source {
            return event;
        }
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
        event
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
}
