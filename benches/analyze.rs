//! Analysis throughput on a file of over 100 MB (the sample 15 times over),
//! side by side with ffprobe reading the same file. Every check is on (all
//! TR 101 290 indicators, CRC of every section, 2.4 fit, duplicate by content).
//! Prints the median and spread of several runs of each.
//! `cargo bench --bench analyze`

use srt_streamer::ts::analyzer::Analyzer;
use std::time::Instant;

const RUNS: usize = 7;
const FFPROBE_RUNS: usize = 5;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sample = std::fs::read(root.join("media/sample.ts")).expect("sample");
    let data = sample.repeat(15);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("sample-x15.ts");
    std::fs::create_dir_all(dir).expect("bench scratch directory");
    std::fs::write(&path, &data).expect("write the bench file");
    let mb = data.len() as f64 / 1e6;

    let mut times = Vec::new();
    let mut report = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut a = Analyzer::default();
        for c in data.chunks(1 << 20) {
            a.push(c);
        }
        let r = a.report();
        times.push(t.elapsed().as_secs_f64());
        report = Some(r);
    }
    let ours = median(&mut times);
    let (lo, hi) = (times[0], times[times.len() - 1]);
    let packets = report.as_ref().map(|r| r.packets).unwrap_or(0);

    let mut ff_times = Vec::new();
    for _ in 0..FFPROBE_RUNS {
        let t = Instant::now();
        let ok = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_packets",
                "-show_entries",
                "stream=nb_read_packets",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            break;
        }
        ff_times.push(t.elapsed().as_secs_f64());
    }
    println!("# TS analysis throughput ({mb:.0} MB in memory, one core; median of {RUNS} runs)\n");
    println!("| tool | median time | throughput | spread |\n|---|---|---|---|");
    println!(
        "| srt-streamer analyzer (all TR 101 290 checks, {packets} packets) | {ours:.3} s | {:.2} GB/s | {:.2}–{:.2} GB/s |",
        mb / 1e3 / ours,
        mb / 1e3 / hi,
        mb / 1e3 / lo
    );
    if let Some(r) = &report {
        // The 15 copies join with counter and PCR jumps: the checks had work.
        println!(
            "\n(what it found: {} TR 101 290 events; verdict: {})\n",
            r.tr101290.priority1_total() + r.tr101290.priority2_total(),
            r.verdict
        );
    }
    if ff_times.is_empty() {
        println!("| ffprobe | not available | | |");
    } else {
        let ff = median(&mut ff_times);
        let (flo, fhi) = (ff_times[0], ff_times[ff_times.len() - 1]);
        println!(
            "| ffprobe -count_packets (demux only, from the page cache) | {ff:.3} s | {:.2} GB/s | {:.2}–{:.2} GB/s |",
            mb / 1e3 / ff,
            mb / 1e3 / fhi,
            mb / 1e3 / flo
        );
    }
}
