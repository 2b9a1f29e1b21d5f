//! URIs of the outputs that stay on this machine, the receiver's parts on a
//! channel's output:
//!
//! - record: `file:///var/rec/cam.ts` (ffmpeg's `file:` convention;
//!   `file:rec/cam.ts` relative to the working directory) or a plain
//!   absolute path `/var/rec/cam.ts`, with `rotate_secs=S` and `rotate_mb=MB`
//!   as `receive --rotate-secs/--rotate-mb` (the path is taken as written,
//!   no %-decoding);
//! - analyze: `analyze:` (or `analyze://`), `pcr_repetition_ms=40|100` as
//!   `receive --pcr-repetition-ms`;
//! - monitor: `monitor:` (or `monitor://`), `program=N`, `black_secs=S`,
//!   `freeze_secs=S`, `silence_secs=S`.

use super::udp_uri::{query_pairs, value_error, with_query, Pairs};
use crate::engine::config::{parse_number, ConfigError};
use crate::engine::recorder::RecordConfig;
use crate::media::MonitorSettings;
use crate::ts::analyzer::AnalyzerConfig;
use std::path::PathBuf;

/// Most seconds or megabytes per recording file.
const MAX_ROTATE: f64 = 1e7;

/// Which of the local outputs a URI names, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SinkKind {
    Record,
    Analyze,
    Monitor,
}

impl SinkKind {
    pub(crate) fn of(uri: &str) -> Option<Self> {
        if uri.starts_with("file:") || uri.starts_with('/') {
            Some(Self::Record)
        } else if uri.starts_with("analyze:") {
            Some(Self::Analyze)
        } else if uri.starts_with("monitor:") {
            Some(Self::Monitor)
        } else {
            None
        }
    }
}

/// `(before ?, key=value pairs)`.
fn split(uri: &str) -> (&str, Pairs) {
    let (head, query) = uri.split_once('?').unwrap_or((uri, ""));
    (head, query_pairs(query))
}

fn unknown(key: &str, scheme: &str, known: &str) -> ConfigError {
    value_error(
        key,
        "",
        &format!("not an option of {scheme} outputs (known: {known})"),
    )
}

/// Seconds (or megabytes) above 0.
fn check_positive(key: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 && v <= MAX_ROTATE {
        Ok(())
    } else {
        Err(value_error(key, &v.to_string(), "give a number above 0"))
    }
}

pub(crate) fn parse_record(uri: &str) -> Result<RecordConfig, ConfigError> {
    let (head, pairs) = split(uri);
    let path = head
        .strip_prefix("file://")
        .or_else(|| head.strip_prefix("file:"))
        .unwrap_or(head);
    let mut cfg = RecordConfig {
        path: PathBuf::from(path),
        rotate_bytes: None,
        rotate_secs: None,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "rotate_secs" => cfg.rotate_secs = Some(parse_number(&k, &v)?),
            "rotate_mb" => cfg.rotate_bytes = Some((parse_number::<f64>(&k, &v)? * 1e6) as u64),
            _ => return Err(unknown(&k, "file:", "rotate_secs, rotate_mb")),
        }
    }
    Ok(cfg)
}

/// A record output's settings, however they were made (URI, form).
pub(crate) fn validate_record(r: &RecordConfig) -> Result<(), ConfigError> {
    let text = r.path.to_string_lossy();
    if text.is_empty() || text.ends_with('/') || r.path.file_name().is_none() {
        return Err(value_error(
            "path",
            &text,
            "give the recording's file name, e.g. file:///var/rec/cam.ts",
        ));
    }
    if let Some(s) = r.rotate_secs {
        check_positive("rotate_secs", s)?;
    }
    if let Some(b) = r.rotate_bytes {
        check_positive("rotate_mb", b as f64 / 1e6)?;
    }
    Ok(())
}

pub(crate) fn parse_analyze(uri: &str) -> Result<AnalyzerConfig, ConfigError> {
    let (_, pairs) = split(uri);
    let mut cfg = AnalyzerConfig::default();
    for (k, v) in pairs {
        match k.as_str() {
            "pcr_repetition_ms" => cfg.pcr_repetition_ms = parse_number(&k, &v)?,
            _ => return Err(unknown(&k, "analyze:", "pcr_repetition_ms")),
        }
    }
    Ok(cfg)
}

pub(crate) fn validate_analyze(a: &AnalyzerConfig) -> Result<(), ConfigError> {
    if (1.0..=1000.0).contains(&a.pcr_repetition_ms) {
        Ok(())
    } else {
        Err(value_error(
            "pcr_repetition_ms",
            &a.pcr_repetition_ms.to_string(),
            "give 40 (TR 101 290) or 100 ms",
        ))
    }
}

pub(crate) fn parse_monitor(uri: &str) -> Result<MonitorSettings, ConfigError> {
    let (_, pairs) = split(uri);
    let mut cfg = MonitorSettings::default();
    for (k, v) in pairs {
        match k.as_str() {
            "program" => cfg.program = Some(parse_number(&k, &v)?),
            "black_secs" => cfg.black_secs = parse_number(&k, &v)?,
            "freeze_secs" => cfg.freeze_secs = parse_number(&k, &v)?,
            "silence_secs" => cfg.silence_secs = parse_number(&k, &v)?,
            _ => {
                return Err(unknown(
                    &k,
                    "monitor:",
                    "program, black_secs, freeze_secs, silence_secs",
                ))
            }
        }
    }
    Ok(cfg)
}

pub(crate) fn validate_monitor(m: &MonitorSettings) -> Result<(), ConfigError> {
    if m.program == Some(0) {
        return Err(value_error(
            "program",
            "0",
            "give a program number (1-65535)",
        ));
    }
    check_positive("black_secs", m.black_secs)?;
    check_positive("freeze_secs", m.freeze_secs)?;
    check_positive("silence_secs", m.silence_secs)
}

pub(crate) fn record_uri(r: &RecordConfig) -> String {
    let mut q = Vec::new();
    if let Some(s) = r.rotate_secs {
        q.push(format!("rotate_secs={s}"));
    }
    if let Some(b) = r.rotate_bytes {
        q.push(format!("rotate_mb={}", b as f64 / 1e6));
    }
    let path = r.path.display();
    let base = if r.path.is_absolute() {
        format!("file://{path}")
    } else {
        format!("file:{path}")
    };
    with_query(base, &q)
}

pub(crate) fn analyze_uri(a: &AnalyzerConfig) -> String {
    let d = AnalyzerConfig::default();
    let mut q = Vec::new();
    if a.pcr_repetition_ms != d.pcr_repetition_ms {
        q.push(format!("pcr_repetition_ms={}", a.pcr_repetition_ms));
    }
    with_query("analyze:".to_string(), &q)
}

pub(crate) fn monitor_uri(m: &MonitorSettings) -> String {
    let d = MonitorSettings::default();
    let mut q = Vec::new();
    if let Some(p) = m.program {
        q.push(format!("program={p}"));
    }
    for (key, v, dv) in [
        ("black_secs", m.black_secs, d.black_secs),
        ("freeze_secs", m.freeze_secs, d.freeze_secs),
        ("silence_secs", m.silence_secs, d.silence_secs),
    ] {
        if v != dv {
            q.push(format!("{key}={v}"));
        }
    }
    with_query("monitor:".to_string(), &q)
}

/// Two record outputs of one channel writing the same file would garble it.
pub(crate) fn same_file(path: &std::path::Path) -> ConfigError {
    value_error(
        "path",
        &path.display().to_string(),
        "another record output writes this file: give each its own",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(uri: &str) -> Result<RecordConfig, ConfigError> {
        parse_record(uri).and_then(|r| validate_record(&r).map(|()| r))
    }

    #[test]
    fn record_uris_file_scheme_and_plain_paths() {
        let r = parse_record("file:///var/rec/cam.ts?rotate_secs=600&rotate_mb=100").unwrap();
        assert_eq!(r.path, PathBuf::from("/var/rec/cam.ts"));
        assert_eq!(
            (r.rotate_secs, r.rotate_bytes),
            (Some(600.0), Some(100_000_000))
        );
        assert_eq!(
            record_uri(&r),
            "file:///var/rec/cam.ts?rotate_secs=600&rotate_mb=100"
        );
        let p = parse_record("/var/rec/cam.ts").unwrap();
        assert_eq!(record_uri(&p), "file:///var/rec/cam.ts");
        assert_eq!(
            record_uri(&parse_record("file:rec/a.ts").unwrap()),
            "file:rec/a.ts"
        );
        assert_eq!(SinkKind::of("/x.ts"), Some(SinkKind::Record));
        assert_eq!(SinkKind::of("analyze://"), Some(SinkKind::Analyze));
        assert_eq!(SinkKind::of("srt://:9000"), None);
        for (uri, key) in [
            ("file:///r.ts?rotate_secs=0", "rotate_secs"),
            ("file:///r.ts?rotate_mb=x", "rotate_mb"),
            ("file:///r.ts?rotate=600", "rotate"),
            ("file:///var/rec/", "path"),
        ] {
            let e = record(uri).unwrap_err().to_string();
            assert!(e.starts_with(key), "{uri}: {e}");
        }
    }

    #[test]
    fn analyze_and_monitor_options_name_the_key() {
        assert_eq!(
            parse_analyze("analyze:").unwrap(),
            AnalyzerConfig::default()
        );
        let a = parse_analyze("analyze://?pcr_repetition_ms=100").unwrap();
        assert_eq!(analyze_uri(&a), "analyze:?pcr_repetition_ms=100");
        let m = parse_monitor("monitor:?program=2&black_secs=2").unwrap();
        assert_eq!((m.program, m.black_secs), (Some(2), 2.0));
        assert_eq!(monitor_uri(&m), "monitor:?program=2&black_secs=2");
        let e = parse_analyze("analyze:?bogus=1").unwrap_err().to_string();
        assert!(
            e.starts_with("bogus") && e.contains("pcr_repetition_ms"),
            "{e}"
        );
        let m = parse_monitor("monitor:?freeze_secs=-1").unwrap();
        let e = validate_monitor(&m).unwrap_err().to_string();
        assert!(e.starts_with("freeze_secs"), "{e}");
        let e = parse_monitor("monitor:?program=x").unwrap_err().to_string();
        assert!(e.starts_with("program"), "{e}");
        let a = parse_analyze("analyze:?pcr_repetition_ms=0").unwrap();
        assert!(validate_analyze(&a).is_err());
    }
}
