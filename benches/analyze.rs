//! Analysis throughput on a file of over 100 MB (the sample 15 times over),
//! side by side with ffprobe reading the same file.
//! `cargo bench --bench analyze`

use srt_streamer::ts::analyzer::Analyzer;
use std::time::Instant;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sample = std::fs::read(root.join("media/sample.ts")).expect("sample");
    let data = sample.repeat(15);
    let path = root.join("target/bench-media/sample-x15.ts");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &data).unwrap();
    let mb = data.len() as f64 / 1e6;

    let mut best = f64::MAX;
    let mut packets = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut a = Analyzer::default();
        for c in data.chunks(1 << 20) {
            a.push(c);
        }
        let r = a.report();
        best = best.min(t.elapsed().as_secs_f64());
        packets = r.packets;
    }
    let t = Instant::now();
    let ff = std::process::Command::new("ffprobe")
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
        .output();
    let ff_secs = t.elapsed().as_secs_f64();
    println!("# TS analysis throughput ({mb:.0} MB in memory, one core)\n");
    println!("| tool | time | throughput |\n|---|---|---|");
    println!("| srt-streamer analyzer (all TR 101 290 checks, {packets} packets) | {best:.3} s | {:.2} GB/s |", mb / 1e3 / best);
    match ff {
        Ok(o) if o.status.success() => println!(
            "| ffprobe -count_packets (demux only) | {ff_secs:.3} s | {:.2} GB/s |",
            mb / 1e3 / ff_secs
        ),
        _ => println!("| ffprobe | not available | |"),
    }
}
