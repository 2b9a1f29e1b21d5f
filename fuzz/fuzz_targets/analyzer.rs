//! Fuzzes the TS analyzer and the packet checker: any bytes, in any chunking,
//! as 188-byte packets or re-framed into 192-byte (M2TS) and 204-byte units,
//! must give a report and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use srt_streamer::ts::analyzer::{Analyzer, AnalyzerConfig};
use srt_streamer::ts::check::StreamCheck;

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

fuzz_target!(|data: &[u8]| {
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
    for (_, e) in r.tr101290.entries() {
        assert!(e.occurrences().count() as u64 <= e.count);
    }
    let mut live = Analyzer::default();
    for (i, chunk) in input.chunks(split).enumerate() {
        live.push_live(chunk, i as f64 * 0.01);
    }
    let _ = live.report();
});
