//! `--stats json` records read alike from `play`, `relay` and `receive`:
//! every record says what it is (`type`: player, channel, receiver) and
//! whether it is the run's last for that stream (`final`).

mod common;

use common::{free_port, sample, srt_streamer};
use serde_json::Value;
use std::collections::HashMap;

/// A TOML line-up of one SRT player and one channel (file → UDP).
fn lineup(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("lineup.toml");
    let file = sample().display().to_string();
    let text = format!(
        "[[stream]]\nname = \"p\"\nfile = \"{file}\"\nmode = \"listener\"\nport = {}\n\n\
         [[channel]]\nname = \"c\"\ninput = \"{file}\"\noutputs = [\"udp://127.0.0.1:{}\"]\n",
        free_port(),
        free_port()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The JSON lines a short run prints on stdout.
fn records(args: &[&str]) -> Vec<Value> {
    let out = srt_streamer().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// Each record has a known `type` and a boolean `final`; per stream (type
/// and name), `final` is true on its last record only, and every stream
/// has one.
fn check(records: &[Value], types: &[&str]) {
    let mut last: HashMap<String, (usize, bool)> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let t = r["type"].as_str().unwrap_or_else(|| panic!("type in {r}"));
        assert!(types.contains(&t), "type {t}");
        let fin = r["final"]
            .as_bool()
            .unwrap_or_else(|| panic!("final in {r}"));
        let name = match t {
            "channel" => r["channel"]["name"].clone(),
            "receiver" => Value::from("receiver"),
            _ => r["name"].clone(),
        };
        let key = format!("{t} {name}");
        if let Some((_, true)) = last.get(&key) {
            panic!("{key}: a record after its final one");
        }
        last.insert(key, (i, fin));
    }
    let seen: Vec<&str> = last
        .keys()
        .map(|k| k.split(' ').next().unwrap_or(""))
        .collect();
    for t in types {
        assert!(seen.contains(t), "a {t} record among {:?}", last.keys());
    }
    for (key, (_, fin)) in &last {
        assert!(fin, "{key}: its last record is final");
    }
}

#[test]
fn play_and_relay_records_carry_type_and_a_final_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = lineup(dir.path());
    let file = file.to_str().unwrap();
    for cmd in ["play", "relay"] {
        let r = records(&[
            cmd,
            "--streams",
            file,
            "--stats",
            "json",
            "--duration",
            "2.5",
        ]);
        check(&r, &["player", "channel"]);
    }
}

#[test]
fn receive_records_carry_type_and_a_final_one() {
    let uri = format!("srt://:{}", free_port());
    let r = records(&["receive", &uri, "--json", "--duration", "2"]);
    check(&r, &["receiver"]);
}
