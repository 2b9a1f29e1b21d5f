//! Fuzzes the TS analyzer and the packet checker: any bytes, in any chunking,
//! must give a report and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use srt_streamer::ts::analyzer::Analyzer;
use srt_streamer::ts::check::StreamCheck;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map(|b| usize::from(*b) * 7 + 1).unwrap_or(1);
    let mut a = Analyzer::default();
    let mut c = StreamCheck::new(None);
    for chunk in data.chunks(split) {
        a.push(chunk);
        c.push(chunk);
    }
    let r = a.report();
    assert!(r.packets * 188 <= data.len() as u64);
    let mut live = Analyzer::default();
    for (i, chunk) in data.chunks(split).enumerate() {
        live.push_live(chunk, i as f64 * 0.01);
    }
    let _ = live.report();
});
