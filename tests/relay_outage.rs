//! A publisher that drops and comes back ~2 s later with a later part of
//! the programme (its PCR 3 s further on): the channel's output, recorded
//! and read by our TR 101 290 analyzer, has no PCR error — the PCR step
//! across the outage is declared by discontinuity_indicator, as at a
//! switch — and no continuity error. Once with the outage shorter than
//! `switch_after` (the input stays on air: a reconnect) and once longer
//! (nothing on air, then the input again: a switch to it).

mod common;

use common::relay::{publish, serial, Relay};
use common::{free_port, sample};
use srt_streamer::ts::analyzer::Analyzer;
use std::time::Duration;

/// The PCR and continuity errors of the recording of a relay whose
/// publisher is away `outage`, with `switch_after_ms`.
fn outage(switch_after_ms: u32, outage: Duration) -> (u64, u64, u64, String) {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(sample()).unwrap();
    let at = |secs: f64| (5_000_000.0 / 8.0 * secs / 188.0) as usize * 188;
    let (first, second) = (dir.path().join("a.ts"), dir.path().join("b.ts"));
    std::fs::write(&first, &data[..at(3.0)]).unwrap();
    std::fs::write(&second, &data[at(6.0)..at(9.0)]).unwrap();
    let rec = dir.path().join("rec.ts");
    let port = free_port();
    let mut relay = Relay::start(
        dir.path(),
        &[
            "--input",
            &format!("srt://:{port}?latency=200&streamid=%23!::r=cam,m=publish"),
            "--output",
            &format!("file://{}", rec.display()),
            "--switch-after",
            &switch_after_ms.to_string(),
        ],
    );
    let uri =
        format!("srt://127.0.0.1:{port}?latency=200&mode=caller&streamid=%23!::r=cam,m=publish");
    publish(&first, &uri);
    std::thread::sleep(outage);
    publish(&second, &uri);
    std::thread::sleep(Duration::from_millis(500));
    relay.stop();
    let mut a = Analyzer::default();
    a.push(&std::fs::read(&rec).unwrap());
    a.finish();
    let r = a.report();
    let tr = &r.tr101290;
    let pcr = tr.pcr_discontinuity_indicator_error.count + tr.pcr_repetition_error.count;
    let list = |e: &srt_streamer::ts::report::ErrorCount| {
        e.occurrences()
            .map(|o| o.detail.clone())
            .collect::<Vec<_>>()
    };
    let summary = format!(
        "{} bytes; 2.3b {:?}; 2.3a {:?}; 1.4 {:?}\n{}",
        std::fs::metadata(&rec).map(|m| m.len()).unwrap_or(0),
        list(&tr.pcr_discontinuity_indicator_error),
        list(&tr.pcr_repetition_error),
        list(&tr.continuity_count_error),
        relay.log()
    );
    (
        pcr,
        tr.continuity_count_error.count,
        tr.pcr_accuracy_error.count,
        summary,
    )
}

#[test]
fn a_publisher_back_within_switch_after_leaves_no_pcr_error() {
    let (pcr, cc, _, s) = outage(5000, Duration::from_secs(2));
    assert_eq!((pcr, cc), (0, 0), "{s}");
}

#[test]
fn a_publisher_back_after_switch_after_leaves_no_pcr_error() {
    let (pcr, cc, _, s) = outage(500, Duration::from_secs(2));
    assert_eq!((pcr, cc), (0, 0), "{s}");
}
