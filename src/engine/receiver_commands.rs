//! Commands that receive a stream, for the user to copy: srt-live-transmit,
//! ffplay and gst-launch. The passphrase is included only on request.

use super::config::{url_host, Encryption, Mode, StreamConfig};

/// Which receiver program a command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    SrtLiveTransmit,
    Ffplay,
    GstLaunch,
}

impl Receiver {
    pub const ALL: [Receiver; 3] = [
        Receiver::SrtLiveTransmit,
        Receiver::Ffplay,
        Receiver::GstLaunch,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Receiver::SrtLiveTransmit => "srt-live-transmit",
            Receiver::Ffplay => "ffplay",
            Receiver::GstLaunch => "gst-launch-1.0",
        }
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The command a receiver runs to get `cfg`'s stream. `this_host` is how the
/// receiver reaches this machine (used when we listen).
pub fn receiver_command(
    cfg: &StreamConfig,
    receiver: Receiver,
    this_host: &str,
    with_passphrase: bool,
) -> String {
    // The receiver's side of the connection.
    let (their_mode, host) = match cfg.mode {
        Mode::Listener => ("caller", url_host(this_host)),
        Mode::Caller => ("listener", String::new()),
        Mode::Rendezvous => ("rendezvous", url_host(this_host)),
    };
    let port = match cfg.mode {
        Mode::Rendezvous if cfg.local_port != 0 => cfg.local_port,
        _ => cfg.port,
    };
    let secret = |ph: &str| -> Option<(String, u32)> {
        if cfg.encryption == Encryption::None {
            return None;
        }
        let text = match (&cfg.passphrase, with_passphrase) {
            (Some(p), true) => p.expose().to_string(),
            _ => ph.to_string(),
        };
        Some((text, cfg.encryption.pbkeylen()))
    };
    let mut q = vec![format!("mode={their_mode}")];
    match receiver {
        Receiver::SrtLiveTransmit | Receiver::Ffplay => {
            // ffmpeg takes latency in microseconds, srt-live-transmit in ms.
            q.push(match receiver {
                Receiver::Ffplay => format!("latency={}", u64::from(cfg.latency_ms) * 1000),
                _ => format!("latency={}", cfg.latency_ms),
            });
            if let Some((p, k)) = secret("PASSPHRASE") {
                q.push(format!("passphrase={p}"));
                q.push(format!("pbkeylen={k}"));
            }
            if !cfg.stream_id.is_empty() {
                q.push(format!("streamid={}", cfg.stream_id));
            }
            let uri = shell_quote(&format!("srt://{host}:{port}?{}", q.join("&")));
            match receiver {
                Receiver::Ffplay => format!("ffplay {uri}"),
                _ => format!("srt-live-transmit {uri} file://con | ffplay -"),
            }
        }
        Receiver::GstLaunch => {
            let mut props = vec![
                format!(
                    "uri={}",
                    shell_quote(&format!("srt://{host}:{port}?{}", q.join("&")))
                ),
                format!("latency={}", cfg.latency_ms),
            ];
            if let Some((p, k)) = secret("PASSPHRASE") {
                props.push(format!("passphrase={}", shell_quote(&p)));
                props.push(format!("pbkeylen={k}"));
            }
            if !cfg.stream_id.is_empty() {
                props.push(format!("streamid={}", shell_quote(&cfg.stream_id)));
            }
            format!(
                "gst-launch-1.0 srtsrc {} ! tsdemux ! queue ! decodebin ! videoconvert ! autovideosink",
                props.join(" ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_uri;

    #[test]
    fn listener_stream_gives_caller_commands_with_masked_secret() {
        let cfg = parse_uri(
            "srt://:9000?latency=200&passphrase=0123456789ab&pbkeylen=32",
            "a.ts",
        )
        .unwrap();
        let slt = receiver_command(&cfg, Receiver::SrtLiveTransmit, "10.0.0.1", false);
        assert_eq!(
            slt,
            "srt-live-transmit 'srt://10.0.0.1:9000?mode=caller&latency=200&passphrase=PASSPHRASE&pbkeylen=32' file://con | ffplay -"
        );
        let ff = receiver_command(&cfg, Receiver::Ffplay, "10.0.0.1", true);
        assert!(
            ff.contains("latency=200000") && ff.contains("passphrase=0123456789ab"),
            "{ff}"
        );
        let gst = receiver_command(&cfg, Receiver::GstLaunch, "10.0.0.1", false);
        assert!(
            gst.starts_with("gst-launch-1.0 srtsrc uri='srt://10.0.0.1:9000?mode=caller'"),
            "{gst}"
        );
        assert!(!gst.contains("0123456789ab"));
    }

    #[test]
    fn caller_stream_gives_listener_commands() {
        let cfg = parse_uri("srt://10.0.0.9:7001?mode=caller", "a.ts").unwrap();
        let slt = receiver_command(&cfg, Receiver::SrtLiveTransmit, "x", false);
        assert!(
            slt.contains("'srt://:7001?mode=listener&latency=120'"),
            "{slt}"
        );
    }
}
