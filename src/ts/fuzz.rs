//! The body of the analyzer's fuzz target (`fuzz/`, cargo-fuzz on nightly),
//! here so that the stable test suite runs it too over mutated real files.

use super::analyzer::{Analyzer, AnalyzerConfig};
use super::check::StreamCheck;

/// The bytes cut into 188-byte pieces, each wrapped as a 192- or 204-byte unit.
fn reframe(data: &[u8], unit: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 188 * unit + unit);
    for p in data.chunks(188) {
        if unit == 192 {
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        out.extend_from_slice(p);
        if unit == 204 {
            out.extend_from_slice(&[0u8; 16]);
        }
    }
    out
}

/// Any bytes, in any chunking, as 188-byte packets or re-framed into 192-
/// and 204-byte units, file and live: a report comes out, with occurrence
/// lists no longer than their counts, and nothing panics.
pub fn analyze_any(data: &[u8]) {
    let split = data.first().map(|b| usize::from(*b) * 7 + 1).unwrap_or(1);
    let mode = data.get(1).copied().unwrap_or(0);
    let framed;
    let input: &[u8] = match mode % 3 {
        1 => {
            framed = reframe(data, 192);
            &framed
        }
        2 => {
            framed = reframe(data, 204);
            &framed
        }
        _ => data,
    };
    let cfg = AnalyzerConfig {
        bitrate_bps: (mode & 0x80 != 0).then_some(1e6),
        ..Default::default()
    };
    let mut a = Analyzer::new(cfg);
    let mut c = StreamCheck::new(None);
    for chunk in input.chunks(split) {
        a.push(chunk);
        c.push(chunk);
    }
    let r = a.report();
    assert!(r.packets * 188 <= input.len() as u64);
    assert!(r.duration_secs.is_finite() && r.duration_secs >= 0.0);
    for (_, e) in r.tr101290.entries() {
        assert!(e.occurrences().count() as u64 <= e.count);
    }
    // Reading the report changed nothing: finishing gives the same.
    let before = serde_json::to_string(&r).ok();
    a.finish();
    assert_eq!(serde_json::to_string(&a.report()).ok(), before);
    let mut live = Analyzer::default();
    for (i, chunk) in input.chunks(split).enumerate() {
        live.push_live(chunk, i as f64 * 0.01);
    }
    let _ = live.report();
}
