//! Which input is on air: the failover decision, a pure function of the
//! inputs' [`Health`] and the time.
//!
//! - The live input is left when it is down: for no data only once the
//!   silence reaches `switch_after_ms`; for sync loss, no PCR or a burst of
//!   continuity errors at once. The air goes to the highest-priority healthy
//!   input, else the slate; with neither, the input stays on air (a damaged
//!   stream beats silence, and nothing is lost when it recovers).
//! - A higher-priority input gets the air back only after it has been
//!   continuously healthy for `return_after_secs` (0: never), so an input that
//!   comes and goes never takes the air.
//! - From the slate (or nothing), the first healthy input is taken at once.
//! - At start, nothing goes on air until an input is healthy; the slate only
//!   after `switch_after_ms` without one.

use super::health::{DownReason, Health};
use super::settings::SwitchSettings;
use std::fmt;

/// What is on air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// Input `i` of the ordered list (0 = primary).
    Input(usize),
    Slate,
    /// Nothing on air yet: no input has been healthy (and no slate, or
    /// not yet `switch_after_ms` since the start).
    Nothing,
}

/// An input's name as the user sees it: "primary", "backup 1", …
pub struct InputName(pub usize);

impl fmt::Display for InputName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("primary"),
            i => write!(f, "backup {i}"),
        }
    }
}

impl fmt::Display for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input(i) => InputName(*i).fmt(f),
            Self::Slate => f.write_str("slate"),
            Self::Nothing => f.write_str("nothing"),
        }
    }
}

/// Why the switch moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchReason {
    /// The live input failed.
    Down { input: usize, why: DownReason },
    /// A higher-priority input was healthy for the whole hold-off.
    Return { input: usize, healthy_secs: u32 },
    /// An input is healthy while the slate or nothing was on air.
    Healthy { input: usize },
    /// No input healthy (at start, after `switch_after_ms`): the slate.
    NoInput,
}

impl fmt::Display for SwitchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Down { input, why } => write!(f, "{} down: {why}", InputName(*input)),
            Self::Return {
                input,
                healthy_secs,
            } => write!(
                f,
                "back to {} after {healthy_secs} s healthy",
                InputName(*input)
            ),
            Self::Healthy { input } => write!(f, "{} healthy", InputName(*input)),
            Self::NoInput => f.write_str("no input healthy"),
        }
    }
}

/// One switch, for the channel's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchEvent {
    pub from: Live,
    pub to: Live,
    pub reason: SwitchReason,
}

impl fmt::Display for SwitchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} → {}", self.reason, self.from, self.to)
    }
}

/// The failover state of one channel.
#[derive(Debug, Clone)]
pub struct Switch {
    switch_after_ms: u64,
    return_after_secs: u32,
    has_slate: bool,
    live: Live,
    started_us: Option<i64>,
    live_since_us: i64,
}

impl Switch {
    pub fn new(settings: &SwitchSettings, has_slate: bool) -> Self {
        Self {
            switch_after_ms: u64::from(settings.switch_after_ms),
            return_after_secs: settings.return_after_secs,
            has_slate,
            live: Live::Nothing,
            started_us: None,
            live_since_us: 0,
        }
    }

    pub fn live(&self) -> Live {
        self.live
    }

    /// Why the live input with health `h` must be left now, if it must.
    fn failed(&self, h: Health, now_us: i64) -> Option<DownReason> {
        match h {
            Health::Healthy { .. } => None,
            Health::NeverSeen => {
                let for_ms =
                    u64::try_from(now_us.saturating_sub(self.live_since_us) / 1000).unwrap_or(0);
                Some(DownReason::NoData { for_ms }).filter(|_| for_ms >= self.switch_after_ms)
            }
            Health::Down(DownReason::NoData { for_ms }) => {
                Some(DownReason::NoData { for_ms }).filter(|_| for_ms >= self.switch_after_ms)
            }
            Health::Down(why) => Some(why),
        }
    }

    fn go(&mut self, to: Live, reason: SwitchReason, now_us: i64) -> Option<SwitchEvent> {
        let from = self.live;
        self.live = to;
        self.live_since_us = now_us;
        Some(SwitchEvent { from, to, reason })
    }

    /// Looks at every input's health (index = priority) at `now_us`; moves the
    /// air when the rules say so and tells why.
    pub fn decide(&mut self, now_us: i64, health: &[Health]) -> Option<SwitchEvent> {
        let started = *self.started_us.get_or_insert(now_us);
        let healthy = |skip: Option<usize>| {
            (0..health.len()).find(|&j| Some(j) != skip && health[j].is_healthy())
        };
        let Live::Input(i) = self.live else {
            let waited_ms = u64::try_from(now_us.saturating_sub(started) / 1000).unwrap_or(0);
            if let Some(j) = healthy(None) {
                // At the start, an input of higher priority not heard from yet
                // gets switch_after ms to show up before a backup takes the air
                // (else whichever input is faster to connect would win, and the
                // primary would wait return_after to get the air back).
                let primary_may_come = health[..j].contains(&Health::NeverSeen);
                if self.live == Live::Nothing
                    && primary_may_come
                    && waited_ms < self.switch_after_ms
                {
                    return None;
                }
                return self.go(Live::Input(j), SwitchReason::Healthy { input: j }, now_us);
            }
            if self.live == Live::Nothing && self.has_slate && waited_ms >= self.switch_after_ms {
                return self.go(Live::Slate, SwitchReason::NoInput, now_us);
            }
            return None;
        };
        let h = health.get(i).copied().unwrap_or(Health::NeverSeen);
        if let Some(why) = self.failed(h, now_us) {
            let to = match healthy(Some(i)) {
                Some(j) => Live::Input(j),
                None if self.has_slate => Live::Slate,
                // Nothing better: a damaged stream beats silence.
                None => return None,
            };
            return self.go(to, SwitchReason::Down { input: i, why }, now_us);
        }
        if self.return_after_secs == 0 {
            return None;
        }
        let hold_ms = u64::from(self.return_after_secs) * 1000;
        let back = (0..i.min(health.len()))
            .find(|&j| matches!(health[j], Health::Healthy { for_ms } if for_ms >= hold_ms))?;
        let reason = SwitchReason::Return {
            input: back,
            healthy_secs: self.return_after_secs,
        };
        self.go(Live::Input(back), reason, now_us)
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
