//! What the benchmarks share: the 20 Mbit/s copy of the sample.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `dir/sample-20M.ts`: the sample remuxed by ffmpeg at a constant 20 Mbit/s
/// with a PCR every 20 ms; made once (atomically, so an interrupted run
/// leaves no half file), then reused.
pub fn sample_20m(dir: &Path, sample: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let hi = dir.join("sample-20M.ts");
    if !hi.exists() {
        let tmp = dir.join("sample-20M.ts.part");
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(sample)
            .args([
                "-map",
                "0",
                "-c",
                "copy",
                "-f",
                "mpegts",
                "-muxrate",
                "20000000",
                "-pcr_period",
                "20",
                "-mpegts_flags",
                "+resend_headers",
            ])
            .arg(&tmp)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ffmpeg is needed to make the 20 Mbit/s file");
        std::fs::rename(&tmp, &hi).unwrap();
    }
    hi
}
