//! A TOML file of streams:
//!
//! ```toml
//! [[stream]]
//! name = "IRD 1"
//! file = "media/sample.ts"
//! uri = "srt://:9000?latency=200&passphrase=0123456789&pbkeylen=16"
//! loop = "seamless"
//!
//! [[stream]]
//! file = "media/sample.ts"
//! mode = "caller"
//! host = "10.0.0.5"
//! port = 7001
//! latency_ms = 400
//! ```

use crate::engine::config::{parse_uri, LoopMode, StreamConfig};
use std::path::Path;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamsFile {
    #[serde(default)]
    stream: Vec<toml::Table>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UriEntry {
    #[serde(default)]
    name: String,
    file: std::path::PathBuf,
    uri: String,
    #[serde(default, rename = "loop")]
    loop_mode: LoopMode,
    #[serde(default)]
    bitrate_bps: Option<u64>,
    #[serde(default)]
    pcr_pid: Option<u16>,
}

/// Reads the streams of a file; relative file paths are taken from the TOML
/// file's folder.
pub fn load(path: &Path) -> Result<Vec<StreamConfig>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read streams file {}: {e}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str, base: &Path) -> Result<Vec<StreamConfig>, String> {
    let file: StreamsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, table) in file.stream.into_iter().enumerate() {
        let n = i + 1;
        let mut cfg = if table.contains_key("uri") {
            let e: UriEntry = table.try_into().map_err(|e| format!("stream {n}: {e}"))?;
            let mut cfg = parse_uri(&e.uri, e.file).map_err(|err| format!("stream {n}: {err}"))?;
            cfg.name = e.name;
            cfg.loop_mode = e.loop_mode;
            cfg.bitrate_bps = e.bitrate_bps;
            if e.pcr_pid.is_some() {
                cfg.pcr_pid = e.pcr_pid;
            }
            cfg
        } else {
            table
                .try_into::<StreamConfig>()
                .map_err(|e| format!("stream {n}: {e}"))?
        };
        let generated = crate::media::testsignal::is_test_signal(&cfg.file.to_string_lossy());
        if cfg.file.is_relative() && !generated {
            cfg.file = base.join(&cfg.file);
        }
        out.push(cfg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Mode;

    #[test]
    fn uri_and_field_entries() {
        let cfgs = parse(
            r#"
[[stream]]
name = "IRD 1"
file = "a.ts"
uri = "srt://:9000?latency=200&passphrase=0123456789&pbkeylen=32"
loop = "signalled"

[[stream]]
file = "/abs/b.ts"
mode = "caller"
host = "10.0.0.5"
port = 7001
latency_ms = 400
iptos = 184
"#,
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(cfgs.len(), 2);
        assert_eq!(cfgs[0].name, "IRD 1");
        assert_eq!(cfgs[0].file, Path::new("/base/a.ts"));
        assert_eq!(cfgs[0].loop_mode, LoopMode::Signalled);
        assert_eq!(cfgs[0].encryption.pbkeylen(), 32);
        assert_eq!(cfgs[1].mode, Mode::Caller);
        assert_eq!(cfgs[1].latency_ms, 400);
        assert_eq!(cfgs[1].iptos, Some(184));
    }

    #[test]
    fn a_test_signal_is_not_a_path() {
        let cfgs = parse(
            "[[stream]]\nfile='testsrc:bitrate=4000000,name=Lab 1'\nuri='srt://:9000'\n",
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(
            cfgs[0].file,
            Path::new("testsrc:bitrate=4000000,name=Lab 1")
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = parse(
            "[[stream]]\nfile='a.ts'\nmode='listener'\nport=1\nqos=true\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(err.contains("qos"), "{err}");
    }
}
