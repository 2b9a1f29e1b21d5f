//! The fault-injection corpus (tests/corpus/make_corpus.py): for every file
//! and every TR 101 290 indicator, our count equals the count reasoned from
//! the injected fault, the count of the separate Python reference checker
//! (tests/corpus/tr101290_ref.py), and — for 1.4 on the elementary streams,
//! the only indicator it reports — Debian tstools' `tsreport`.
//!
//! Where tools read differently, this is what we follow:
//! - tsreport checks continuity only on the PIDs a PMT lists, not on PAT/PMT
//!   PIDs; TR 101 290 1.4 covers every PID but the null PID, as we do. Files
//!   whose faults hit PSI PIDs (pat, pmt) are compared on ES PIDs only.
//! - tsreport does not read 192/204-byte packets nor resync after sync loss:
//!   those files are compared with the Python checker only.

use srt_streamer::cli::analyze::analyze_file;
use srt_streamer::ts::analyzer::{AnalyzerConfig, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tr101290-corpus");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("python3")
        .arg(root.join("tests/corpus/make_corpus.py"))
        .arg(root.join("media/sample.ts"))
        .arg(&dir)
        .status()
        .expect("python3 runs tests/corpus/make_corpus.py");
    assert!(status.success(), "making the corpus failed");
    dir
}

fn counts(r: &Report) -> BTreeMap<String, u64> {
    let v = serde_json::to_value(&r.tr101290).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, e)| (k.clone(), e["count"].as_u64().unwrap()))
        .collect()
}

fn reference(path: &Path) -> BTreeMap<String, u64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/tr101290_ref.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 runs the reference checker");
    assert!(
        out.status.success(),
        "reference checker failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Continuity errors tsreport finds on the elementary streams of the file
/// (errors, >1 duplicates, and same-counter packets with other contents).
fn tsreport_cc(path: &Path, scratch: &Path) -> u64 {
    let out = Command::new("tsreport")
        .arg(path)
        .args(["-cnt", "256"])
        .current_dir(scratch)
        .output()
        .expect("tsreport (package tstools) must be installed: packaging/install-deps.sh --test");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("### CC ")?;
            let (kind, n) = rest.split_once(" * ")?;
            kind.ends_with("error")
                .then(|| n.trim().parse::<u64>().ok())?
        })
        .sum()
}

#[test]
fn every_indicator_matches_the_fault_and_two_independent_checkers() {
    let dir = corpus_dir();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tsreport-scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failures = Vec::new();
    let mut raised: BTreeMap<String, u64> = BTreeMap::new();
    println!(
        "| file | fault | indicator | expected | ours | reference checker | tsreport |\n|---|---|---|---|---|---|---|"
    );
    for (name, entry) in expected.as_object().unwrap() {
        let path = dir.join(format!("{name}.ts"));
        let report = analyze_file(&path, AnalyzerConfig::default()).unwrap();
        let ours = counts(&report);
        let reference = reference(&path);
        let framed = name.ends_with("-192") || name.ends_with("-204");
        let tsreport = (!framed && name != "sync").then(|| tsreport_cc(&path, &scratch));
        for (indicator, want) in entry["expected"].as_object().unwrap() {
            let want = want.as_u64().unwrap();
            let got = ours.get(indicator).copied();
            let refd = reference.get(indicator).copied();
            let psi_cc = name == "pat" || name == "pmt";
            let ts_cc = (indicator == "continuity_count_error")
                .then_some(tsreport)
                .flatten();
            // tsreport leaves PSI PIDs out: on pat/pmt it sees only the ES PIDs (0 errors).
            let ts_want = if psi_cc { 0 } else { want };
            if want > 0 || got != Some(0) || refd != Some(0) || ts_cc.is_some_and(|n| n > 0) {
                println!(
                    "| {name} | {} | {indicator} | {want} | {} | {} | {} |",
                    entry["why"].as_str().unwrap_or(""),
                    got.map_or("-".into(), |n| n.to_string()),
                    refd.map_or("-".into(), |n| n.to_string()),
                    ts_cc.map_or("-".into(), |n| n.to_string()),
                );
            }
            if got != Some(want) || refd != Some(want) || ts_cc.is_some_and(|n| n != ts_want) {
                failures.push(format!(
                    "{name} {indicator}: expected {want}, ours {got:?}, reference {refd:?}, tsreport {ts_cc:?}"
                ));
            }
            *raised.entry(indicator.clone()).or_default() += got.unwrap_or(0);
        }
        if entry["expected"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.as_u64() == Some(0))
        {
            println!(
                "| {name} | {} | all 12 | 0 | {} | {} | {} |",
                entry["why"].as_str().unwrap_or(""),
                ours.values().sum::<u64>(),
                reference.values().sum::<u64>(),
                tsreport.map_or("-".into(), |n| n.to_string()),
            );
        }
        if name == "clean" {
            assert_eq!(report.verdict, "ok");
        } else if entry["expected"]
            .as_object()
            .unwrap()
            .values()
            .any(|v| v.as_u64() != Some(0))
        {
            assert!(
                report.verdict.contains("failed"),
                "{name}: {}",
                report.verdict
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every indicator is raised somewhere in the corpus: none can only say 0.
    for (indicator, n) in raised {
        assert!(n > 0, "{indicator} is never raised by the corpus");
    }
}
