//! Which input goes out: the seam where the failover switch
//! (`engine/switch`: input health, hold-off, timeline repair) plugs in.
//!
//! Every input thread calls [`Selector::admit`] for each datagram with its
//! arrival time; only the live input's datagrams reach the fan-out. Today's
//! rule is deliberately trivial: the live input is the first in the list
//! (primary first) that delivered data within `switch_after`. It returns to
//! the primary at its first datagram (no `return_after` hold-off and no
//! timeline repair yet: that is the switch's job).

use std::time::{Duration, Instant};

/// A change of live input, for the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switched {
    pub from: Option<usize>,
    pub to: usize,
    pub reason: SwitchReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchReason {
    /// The first input to deliver anything.
    FirstData,
    /// The live input delivered nothing for `switch_after`.
    LiveSilent,
    /// An input earlier in the list has data again.
    HigherPriorityBack,
}

/// Decides, datagram by datagram, which input is live.
#[derive(Debug)]
pub struct Selector {
    live: Option<usize>,
    last_data: Vec<Option<Instant>>,
    switch_after: Duration,
}

impl Selector {
    pub fn new(inputs: usize, switch_after: Duration) -> Self {
        Self {
            live: None,
            last_data: vec![None; inputs],
            switch_after,
        }
    }

    pub fn live(&self) -> Option<usize> {
        self.live
    }

    /// THE SWITCH GOES HERE: input `input` has a datagram that arrived at
    /// `at`. Returns whether it goes out, and the switch it caused, if any.
    pub fn admit(&mut self, input: usize, at: Instant) -> (bool, Option<Switched>) {
        if let Some(slot) = self.last_data.get_mut(input) {
            *slot = Some(at);
        }
        let reason = match self.live {
            None => Some(SwitchReason::FirstData),
            Some(live) if live == input => None,
            Some(live) if input < live => Some(SwitchReason::HigherPriorityBack),
            Some(live) => {
                let silent = self
                    .last_data
                    .get(live)
                    .copied()
                    .flatten()
                    .is_none_or(|t| at.saturating_duration_since(t) >= self.switch_after);
                silent.then_some(SwitchReason::LiveSilent)
            }
        };
        let switched = reason.map(|reason| {
            let s = Switched {
                from: self.live,
                to: input,
                reason,
            };
            self.live = Some(input);
            s
        });
        (self.live == Some(input), switched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_first_backup_after_silence_primary_back() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut s = Selector::new(2, Duration::from_millis(1000));
        assert!(s.admit(0, ms(0)).0);
        assert!(
            !s.admit(1, ms(10)).0,
            "the backup waits while the primary delivers"
        );
        assert!(s.admit(0, ms(500)).0);
        assert!(!s.admit(1, ms(1400)).0, "primary silent only 900 ms");
        let (out, sw) = s.admit(1, ms(1600));
        assert!(out);
        assert_eq!(sw.map(|s| s.reason), Some(SwitchReason::LiveSilent));
        let (out, sw) = s.admit(0, ms(1700));
        assert!(out);
        assert_eq!(sw.map(|s| s.reason), Some(SwitchReason::HigherPriorityBack));
        assert!(!s.admit(1, ms(1710)).0);
    }
}
