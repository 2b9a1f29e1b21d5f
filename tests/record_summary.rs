//! "recording finished" tells a rotated recording's total and its last
//! file's own size apart, each matching the files on disk; `--stats json`
//! carries both (`bytes`, `file_bytes`).

mod common;

use common::{sample, srt_streamer};

/// `N bytes` inside the parentheses after `label` in `line`.
fn bytes_after(line: &str, label: &str) -> u64 {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {line}"))..];
    let open = rest.find('(').expect("(N bytes)");
    let n: String = rest[open + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    n.parse()
        .unwrap_or_else(|_| panic!("bytes after {label} in {line}"))
}

#[test]
fn a_rotated_recording_reports_its_total_and_its_last_file_apart() {
    let dir = tempfile::tempdir().unwrap();
    let rot = dir.path().join("rot.ts");
    let out = srt_streamer()
        .args(["relay", "--input"])
        .arg(sample())
        .arg("--output")
        .arg(format!("file://{}?rotate_secs=1", rot.display()))
        .args(["--stats", "json", "--duration", "3.5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let files: Vec<u64> = (1..)
        .map(|i| dir.path().join(format!("rot-{i:04}.ts")))
        .take_while(|p| p.exists())
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    assert!(files.len() >= 2, "rotated: {files:?}");
    let last_name = format!("rot-{:04}.ts", files.len());
    let line = err
        .lines()
        .find(|l| l.contains("recording finished"))
        .unwrap_or_else(|| panic!("recording finished in:\n{err}"));
    assert!(line.contains(&format!("{} files", files.len())), "{line}");
    assert_eq!(
        bytes_after(line, "files,"),
        files.iter().sum::<u64>(),
        "{line}"
    );
    assert!(line.contains(&last_name), "{line}");
    assert_eq!(
        bytes_after(line, "last file"),
        files[files.len() - 1],
        "{line}"
    );
    // The final record: the total and the last file's bytes, apart.
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let rec = &last["channel"]["outputs"][0]["recording"];
    assert_eq!(
        rec["bytes"].as_u64(),
        Some(files.iter().sum::<u64>()),
        "{rec}"
    );
    assert_eq!(
        rec["file_bytes"].as_u64(),
        Some(files[files.len() - 1]),
        "{rec}"
    );
    assert_eq!(rec["files"].as_u64(), Some(files.len() as u64), "{rec}");
}
