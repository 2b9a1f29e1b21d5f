//! SRT latency and overhead from a measured path: the SRT Deployment Guide's
//! table (rows confirmed through a vendor manual that reproduces it) and its
//! rules, clamped to what libsrt accepts. Pure: numbers in, numbers out.

use serde::Serialize;

/// One confirmed row of the Deployment Guide's table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GuideRow {
    /// The row applies up to this packet loss (%).
    pub max_loss_percent: f64,
    pub rtt_multiplier: u32,
    pub overhead_percent: u32,
    /// Latency never goes below this (the guide gives it for RTT <= 20 ms).
    pub min_latency_ms: u32,
}

pub const GUIDE_TABLE: [GuideRow; 4] = [
    GuideRow {
        max_loss_percent: 1.0,
        rtt_multiplier: 3,
        overhead_percent: 33,
        min_latency_ms: 60,
    },
    GuideRow {
        max_loss_percent: 3.0,
        rtt_multiplier: 4,
        overhead_percent: 25,
        min_latency_ms: 80,
    },
    GuideRow {
        max_loss_percent: 7.0,
        rtt_multiplier: 5,
        overhead_percent: 20,
        min_latency_ms: 100,
    },
    GuideRow {
        max_loss_percent: 10.0,
        rtt_multiplier: 6,
        overhead_percent: 17,
        min_latency_ms: 120,
    },
];

/// libsrt's limits and ours.
pub const MAX_LATENCY_MS: u32 = 8000;
pub const MIN_OVERHEAD_PERCENT: u32 = 5;
pub const MAX_OVERHEAD_PERCENT: u32 = 100;
/// Loss assumed when it could not be measured (TCP test): the guide's 3 % row.
pub const ASSUMED_LOSS_PERCENT: f64 = 3.0;

/// What was measured on the path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathMeasure {
    pub rtt_ms: f64,
    pub loss_percent: f64,
    /// Loss was not measured (TCP test) but assumed.
    pub loss_assumed: bool,
    /// What the path carried in the test, if measured.
    pub bandwidth_bps: Option<f64>,
    /// The highest rate the test asked (UDP ramp), if any.
    pub asked_bps: Option<f64>,
    /// The test reached the path's limit; false: the path carried all that
    /// was asked, so `bandwidth_bps` is only a floor.
    pub limit_found: bool,
    /// The stream's own bitrate, if known.
    pub stream_bitrate_bps: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub latency_ms: u32,
    pub overhead_percent: u32,
    pub rtt_multiplier: u32,
    /// The table row used, or None beyond 10 % loss.
    pub row: Option<GuideRow>,
    /// The longest loss burst these settings survive, about latency × overhead / 100.
    pub max_burst_ms: u32,
    /// Why these values: the row, the rule, the clamps.
    pub reason: String,
    pub warnings: Vec<String>,
}

pub fn recommend(m: &PathMeasure) -> Recommendation {
    let loss = m.loss_percent.max(0.0);
    let rtt = m.rtt_ms.max(0.0);
    let row = GUIDE_TABLE
        .iter()
        .copied()
        .find(|r| loss <= r.max_loss_percent);
    let mut warnings = Vec::new();
    let (multiplier, table_overhead, min_latency, row_text) = match row {
        Some(r) => (
            r.rtt_multiplier,
            r.overhead_percent,
            r.min_latency_ms,
            format!(
                "Deployment Guide row \"loss <= {} %\": latency = {} x RTT (at least {} ms), overhead {} %",
                r.max_loss_percent, r.rtt_multiplier, r.min_latency_ms, r.overhead_percent
            ),
        ),
        None => {
            warnings.push(format!(
                "loss of {loss:.1} % is beyond the Deployment Guide's confirmed table (10 %): SRT will struggle on this path; fix the path or expect drops. The values extrapolate the last row (x6 RTT, at least 120 ms) and the guide's rule overhead >= 1.65 x loss."
            ));
            (6, 17, 120, "beyond the table (loss > 10 %): last row's multiplier, overhead from 1.65 x loss".to_string())
        }
    };
    // The guide's rule for constant loss: overhead >= 1.65 × loss %.
    let rule_overhead = (1.65 * loss).ceil() as u32;
    let overhead = table_overhead
        .max(rule_overhead)
        .clamp(MIN_OVERHEAD_PERCENT, MAX_OVERHEAD_PERCENT);
    let by_rtt = (f64::from(multiplier) * rtt).ceil() as u32;
    let mut latency = by_rtt.max(min_latency);
    if latency > MAX_LATENCY_MS {
        warnings.push(format!(
            "{multiplier} x RTT = {by_rtt} ms exceeds SRT's 8000 ms: clamped to 8000 ms"
        ));
        latency = MAX_LATENCY_MS;
    }
    if rule_overhead > MAX_OVERHEAD_PERCENT {
        warnings.push(format!(
            "1.65 x loss asks for {rule_overhead} % overhead; libsrt allows at most 100 %"
        ));
    }
    if let (Some(bw), Some(br)) = (m.bandwidth_bps, m.stream_bitrate_bps) {
        let need = br * (1.0 + f64::from(overhead) / 100.0);
        let asked = m
            .asked_bps
            .map(|a| format!(" (asked up to {:.2})", a / 1e6))
            .unwrap_or_default();
        if need > bw && m.limit_found {
            warnings.push(format!(
                "path too slow: the stream needs {:.2} Mbit/s with {overhead} % overhead but the path carried {:.2} Mbit/s{asked}: lower the bitrate or the overhead, or use a faster path",
                need / 1e6,
                bw / 1e6
            ));
        } else if need > bw {
            // Not a slow path: the test stopped below the need.
            warnings.push(format!(
                "the stream needs {:.2} Mbit/s with {overhead} % overhead; the path carried all the test asked ({:.2} Mbit/s{asked}), so whether it carries the need is unknown: test with a higher UDP rate",
                need / 1e6,
                bw / 1e6
            ));
        }
    }
    let max_burst_ms = (u64::from(latency) * u64::from(overhead) / 100) as u32;
    let loss_text = if m.loss_assumed {
        format!("loss {loss:.1} % assumed (TCP test: not measured)")
    } else {
        format!("loss {loss:.2} % measured")
    };
    let latency_text = if by_rtt >= min_latency {
        format!("{multiplier} x {rtt:.1} ms = {by_rtt} ms")
    } else {
        format!("{multiplier} x {rtt:.1} ms = {by_rtt} ms, raised to the row's minimum {min_latency} ms")
    };
    Recommendation {
        latency_ms: latency,
        overhead_percent: overhead,
        rtt_multiplier: multiplier,
        row,
        max_burst_ms,
        reason: format!(
            "RTT {rtt:.1} ms, {loss_text}. {row_text}. Latency {latency_text}{}; overhead {overhead} %. Survives loss bursts up to about {max_burst_ms} ms.",
            if latency == MAX_LATENCY_MS && by_rtt > MAX_LATENCY_MS { " (clamped to 8000)" } else { "" }
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(rtt: f64, loss: f64) -> Recommendation {
        recommend(&PathMeasure {
            rtt_ms: rtt,
            loss_percent: loss,
            loss_assumed: false,
            bandwidth_bps: None,
            asked_bps: None,
            limit_found: false,
            stream_bitrate_bps: None,
        })
    }

    #[test]
    fn every_row_boundary() {
        // (loss, multiplier, overhead, minimum latency)
        let cases = [
            (0.0, 3, 33, 60),
            (1.0, 3, 33, 60),
            (1.01, 4, 25, 80),
            (3.0, 4, 25, 80),
            (3.01, 5, 20, 100),
            (7.0, 5, 20, 100),
            (7.01, 6, 17, 120),
            (10.0, 6, 17, 120),
        ];
        for (loss, mult, oh, min) in cases {
            let r = rec(5.0, loss);
            assert_eq!(
                (r.rtt_multiplier, r.overhead_percent, r.latency_ms),
                (mult, oh, min),
                "loss {loss}"
            );
            assert!(r.warnings.is_empty(), "loss {loss}: {:?}", r.warnings);
            // Above the minimum, latency is multiplier × RTT.
            let r = rec(100.0, loss);
            assert_eq!(r.latency_ms, mult * 100, "loss {loss}");
        }
    }

    #[test]
    fn minimum_latency_applies_until_rtt_times_multiplier_passes_it() {
        assert_eq!(rec(20.0, 0.5).latency_ms, 60);
        assert_eq!(rec(20.1, 0.5).latency_ms, 61);
        assert_eq!(rec(33.4, 2.0).latency_ms, 134);
    }

    #[test]
    fn beyond_ten_percent_extrapolates_and_says_so() {
        let r = rec(50.0, 20.0);
        assert_eq!(r.row, None);
        assert_eq!(r.rtt_multiplier, 6);
        assert_eq!(r.overhead_percent, 33, "1.65 x 20 = 33");
        assert_eq!(r.latency_ms, 300);
        assert!(r.warnings[0].contains("beyond the Deployment Guide"));
        let r = rec(50.0, 80.0);
        assert_eq!(r.overhead_percent, 100, "clamped to libsrt's 100 %");
        assert!(r.warnings.iter().any(|w| w.contains("at most 100")));
    }

    #[test]
    fn clamps_latency_to_8000_and_overhead_never_under_5() {
        assert_eq!(rec(2000.0, 0.0).latency_ms, 6000);
        let r = rec(3000.0, 0.0);
        assert_eq!(r.latency_ms, 8000);
        assert!(r.warnings.iter().any(|w| w.contains("8000")));
        for loss in [0.0, 1.0, 5.0, 9.9, 50.0] {
            let o = rec(1.0, loss).overhead_percent;
            assert!((5..=100).contains(&o));
        }
    }

    /// A path measured by a ramp: `carried` of `asked` Mbit/s, for a stream of `stream`.
    fn measured(carried: f64, asked: f64, limit_found: bool, stream: f64) -> Recommendation {
        recommend(&PathMeasure {
            rtt_ms: 40.0,
            loss_percent: 0.5,
            loss_assumed: false,
            bandwidth_bps: Some(carried * 1e6),
            asked_bps: Some(asked * 1e6),
            limit_found,
            stream_bitrate_bps: Some(stream * 1e6),
        })
    }

    #[test]
    fn slow_path_warning_compares_the_need_with_what_the_path_carried() {
        // A 5 Mbit/s stream with 33 % needs 6.65 Mbit/s.
        let r = measured(6.6, 8.3, true, 5.0);
        assert_eq!(r.overhead_percent, 33);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0].starts_with("path too slow"),
            "{:?}",
            r.warnings
        );
        assert!(r.warnings[0].contains("6.65 Mbit/s"));
        assert!(r.warnings[0].contains("carried 6.60 Mbit/s (asked up to 8.30)"));
        // Just above the need: no warning, limit found or not.
        assert!(measured(6.7, 8.3, true, 5.0).warnings.is_empty());
        assert!(measured(8.3, 8.3, false, 5.0).warnings.is_empty());
        assert_eq!(r.max_burst_ms, 120 * 33 / 100);
    }

    #[test]
    fn a_test_that_asked_too_little_is_not_called_a_slow_path() {
        // The path carried all 4 Mbit/s asked, the stream needs 6.65.
        let r = measured(4.0, 4.0, false, 5.0);
        assert_eq!(r.warnings.len(), 1);
        assert!(!r.warnings[0].contains("too slow"), "{:?}", r.warnings);
        assert!(r.warnings[0].contains("test with a higher UDP rate"));
    }

    #[test]
    fn assumed_loss_is_said_in_the_reason() {
        let r = recommend(&PathMeasure {
            rtt_ms: 40.0,
            loss_percent: 3.0,
            loss_assumed: true,
            bandwidth_bps: Some(50e6),
            asked_bps: None,
            limit_found: true,
            stream_bitrate_bps: Some(5e6),
        });
        assert!(r.reason.contains("assumed"));
        assert!(r.warnings.is_empty());
    }
}
