//! The failover settings of a channel: one `Default`, every range written once.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// `switch_after_ms`: how long the live input may deliver nothing before the switch.
pub const SWITCH_AFTER_MS: RangeInclusive<u32> = 100..=60_000;
/// `return_after_secs`: how long a higher-priority input must stay healthy
/// before it gets the air back (0: never return).
pub const RETURN_AFTER_SECS: RangeInclusive<u32> = 0..=3_600;
/// `pcr_timeout_ms`: no PCR on any PID for this long makes an input down.
pub const PCR_TIMEOUT_MS: RangeInclusive<u32> = 100..=10_000;
/// `cc_burst.errors`: continuity errors inside the window that make an input down.
pub const CC_BURST_ERRORS: RangeInclusive<u32> = 1..=10_000;
/// `cc_burst.window_ms`: the window those errors are counted over.
pub const CC_BURST_WINDOW_MS: RangeInclusive<u32> = 100..=60_000;

/// A burst of continuity errors: `errors` or more inside `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CcBurst {
    pub errors: u32,
    pub window_ms: u32,
}

/// When the switch leaves an input and when it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwitchSettings {
    /// No TS at all for this long on the live input: switch (TS-level failures switch at once).
    pub switch_after_ms: u32,
    /// A higher-priority input gets the air back after this long healthy; 0 = never.
    pub return_after_secs: u32,
    /// No PCR on any PID for this long: the input is down.
    pub pcr_timeout_ms: u32,
    /// This many continuity errors in this window: the input is down.
    pub cc_burst: CcBurst,
}

impl Default for SwitchSettings {
    fn default() -> Self {
        Self {
            switch_after_ms: 1000,
            return_after_secs: 10,
            pcr_timeout_ms: 500,
            cc_burst: CcBurst {
                errors: 5,
                window_ms: 1000,
            },
        }
    }
}

/// A failover setting out of its range; the message names the field as the
/// user writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be {min}–{max} (got {got})")]
pub struct SettingsError {
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
    pub got: u32,
}

fn check(field: &'static str, range: &RangeInclusive<u32>, got: u32) -> Result<(), SettingsError> {
    if range.contains(&got) {
        return Ok(());
    }
    Err(SettingsError {
        field,
        min: *range.start(),
        max: *range.end(),
        got,
    })
}

impl SwitchSettings {
    /// Checks every field against its range; the first one out of range is named.
    pub fn validate(&self) -> Result<(), SettingsError> {
        check("switch_after_ms", &SWITCH_AFTER_MS, self.switch_after_ms)?;
        check(
            "return_after_secs",
            &RETURN_AFTER_SECS,
            self.return_after_secs,
        )?;
        check("pcr_timeout_ms", &PCR_TIMEOUT_MS, self.pcr_timeout_ms)?;
        check("cc_burst.errors", &CC_BURST_ERRORS, self.cc_burst.errors)?;
        check(
            "cc_burst.window_ms",
            &CC_BURST_WINDOW_MS,
            self.cc_burst.window_ms,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_each_field_is_named_when_out_of_range() {
        assert_eq!(SwitchSettings::default().validate(), Ok(()));
        let d = SwitchSettings::default();
        let cases = [
            SwitchSettings {
                switch_after_ms: 99,
                ..d
            },
            SwitchSettings {
                switch_after_ms: 60_001,
                ..d
            },
            SwitchSettings {
                return_after_secs: 3_601,
                ..d
            },
            SwitchSettings {
                pcr_timeout_ms: 0,
                ..d
            },
            SwitchSettings {
                cc_burst: CcBurst {
                    errors: 0,
                    window_ms: 1000,
                },
                ..d
            },
            SwitchSettings {
                cc_burst: CcBurst {
                    errors: 5,
                    window_ms: 10,
                },
                ..d
            },
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|s| s.validate().map_err(|e| e.to_string()).unwrap_err())
            .collect();
        assert_eq!(
            messages,
            [
                "switch_after_ms must be 100–60000 (got 99)",
                "switch_after_ms must be 100–60000 (got 60001)",
                "return_after_secs must be 0–3600 (got 3601)",
                "pcr_timeout_ms must be 100–10000 (got 0)",
                "cc_burst.errors must be 1–10000 (got 0)",
                "cc_burst.window_ms must be 100–60000 (got 10)",
            ]
        );
        for edge in [100, 60_000] {
            let s = SwitchSettings {
                switch_after_ms: edge,
                ..d
            };
            assert_eq!(s.validate(), Ok(()), "{edge} is inside the range");
        }
    }
}
