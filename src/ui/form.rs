//! The new-stream form: every engine setting with inline validation and the
//! Deployment Guide's advice in tooltips; filled from an SRT URI on request.

use super::settings::StreamDefaults;
use crate::engine::config::{
    self, parse_iptos, ConfigError, Encryption, LoopMode, Mode, StreamConfig,
};
use crate::engine::receiver_commands::{receiver_command, Receiver};
use crate::engine::Passphrase;

pub const TIP_LATENCY: &str = "How long the receiver holds packets so that lost ones can be sent again (20-8000 ms, libsrt default 120).\n\nSRT Deployment Guide: latency = RTT multiplier × RTT, and never below the minimum for the loss class: ×3 for <= 1 % loss (min 60 ms), ×4 for <= 3 % (80 ms), ×5 for <= 7 % (100 ms), ×6 for <= 10 % (120 ms). Rule of thumb: 4 × RTT. Both ends use the larger of their two latencies.";
pub const TIP_OVERHEAD: &str = "Extra bandwidth SRT may use for retransmissions, as % of the file's bitrate (libsrt accepts 5-100, default 25). It applies because this player sets maxbw=0 and inputbw to the file's measured bitrate.\n\nSRT Deployment Guide: >= 1.65 × loss % for constant loss; >= 100 / RTT multiplier for bursty loss (33 % with ×3, 25 % with ×4, 20 % with ×5, 17 % with ×6). Bitrate × (1 + overhead) must fit the path's bandwidth. The longest loss burst it survives is about latency × overhead / 100.";
pub const TIP_ENCRYPTION: &str = "AES encryption of the payload. Both ends need the same passphrase (10-79 characters) and the same key length.";
pub const TIP_STREAM_ID: &str = "Sent by a caller to name the stream it wants (access-control syntax: #!::r=resource,m=request). A listener with a stream ID accepts only callers that send the same one.";
pub const TIP_DSCP: &str = "Marks every packet for QoS on managed networks (IP TOS byte). EF (46) is the class for real-time media; AF41 (34) for broadcast video. Without QoS-aware routers it changes nothing.";
pub const TIP_LOOP: &str = "At the end of the file: seamless restamps PCR, PTS and DTS and continues the continuity counters, so the receiver sees one endless stream; signalled starts over with discontinuity_indicator set on every PID; off stops.";
pub const TIP_FEC: &str = "SRT forward error correction (libsrt packet filter), e.g. fec,cols:10,rows:5: extra packets that repair losses without waiting for a retransmission. Both ends must use the same. This machine's libsrt 1.5.1 crashes on matrices over 100 cells (fixed in 1.5.2), so larger ones are refused.";
pub const TIP_ALLOW: &str = "Listener only: the caller addresses that may connect, as addresses or CIDR ranges separated by commas (e.g. 10.0.0.0/8, 192.168.1.20). Others are refused with code 1403. Empty: everyone.";
pub const TIP_PCR_PID: &str = "For a multi-programme file: the PID whose PCRs pace the stream (decimal or 0x hex). Empty: the first programme's PCR PID. Every programme is sent either way.";
pub const TIP_BITRATE: &str = "Leave empty to pace by the file's PCR (recommended): every interval between PCRs plays at its own rate, so VBR files play as recorded. Give a bitrate only for files without PCR: they are then sent at this constant rate (PCRs, if any, still restamp the loop).";
pub const TIP_MODE: &str = "Listener: this machine waits on a port; every receiver that calls it gets the stream. Caller: this machine connects to a receiver that listens (and reconnects when it goes away). Rendezvous: both ends connect to each other, for firewalls that allow no listener.";

/// DSCP classes offered in the form.
pub const DSCP_CHOICES: &[(&str, Option<u8>)] = &[
    ("none", None),
    ("EF (46)", Some(0xB8)),
    ("AF41 (34)", Some(0x88)),
    ("AF31 (26)", Some(0x68)),
    ("CS5 (40)", Some(0xA0)),
    ("CS3 (24)", Some(0x60)),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    File,
    Host,
    Port,
    LocalPort,
    Latency,
    Overhead,
    Passphrase,
    StreamId,
    Dscp,
    Bitrate,
    PcrPid,
    PacketFilter,
    Allow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamForm {
    pub name: String,
    pub file: String,
    pub mode: Mode,
    pub host: String,
    pub port: String,
    pub local_port: String,
    pub latency_ms: String,
    pub overhead_percent: String,
    pub encryption: Encryption,
    pub passphrase: String,
    pub show_passphrase: bool,
    pub stream_id: String,
    /// TOS byte as typed ("", number, or a class name).
    pub dscp: String,
    pub loop_mode: LoopMode,
    pub bitrate: String,
    /// PID whose PCRs pace the stream (an MPTS); empty: the first programme's.
    pub pcr_pid: String,
    /// libsrt FEC filter, e.g. `fec,cols:10,rows:5` (empty: none).
    pub packet_filter: String,
    /// Listener: allowed caller addresses (CIDR, comma-separated).
    pub allow: String,
    pub paste_uri: String,
    pub commands_with_passphrase: bool,
    /// The stream being edited (id, name); None: a new stream.
    pub editing: Option<(crate::engine::StreamId, String)>,
}

impl StreamForm {
    pub fn new(d: &StreamDefaults, file: String) -> Self {
        Self {
            name: String::new(),
            file,
            mode: d.mode,
            host: String::new(),
            port: d.port.to_string(),
            local_port: String::new(),
            latency_ms: d.latency_ms.to_string(),
            overhead_percent: d.overhead_percent.to_string(),
            encryption: d.encryption,
            passphrase: String::new(),
            show_passphrase: false,
            stream_id: String::new(),
            dscp: String::new(),
            loop_mode: d.loop_mode,
            bitrate: String::new(),
            pcr_pid: String::new(),
            packet_filter: String::new(),
            allow: String::new(),
            paste_uri: String::new(),
            commands_with_passphrase: false,
            editing: None,
        }
    }

    /// Fills every setting from a configuration (the file stays if it has none).
    pub fn fill_from(&mut self, c: &StreamConfig) {
        if !c.file.as_os_str().is_empty() {
            self.file = c.file.display().to_string();
        }
        self.name = c.name.clone();
        self.mode = c.mode;
        self.host = c.host.clone();
        self.port = c.port.to_string();
        self.local_port = if c.local_port == 0 {
            String::new()
        } else {
            c.local_port.to_string()
        };
        self.latency_ms = c.latency_ms.to_string();
        self.overhead_percent = c.overhead_percent.to_string();
        self.encryption = c.encryption;
        self.passphrase = c
            .passphrase
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        self.stream_id = c.stream_id.clone();
        self.dscp = c.iptos.map(|t| t.to_string()).unwrap_or_default();
        self.loop_mode = c.loop_mode;
        self.bitrate = c.bitrate_bps.map(|b| b.to_string()).unwrap_or_default();
        self.pcr_pid = c.pcr_pid.map(|p| format!("{p:#06x}")).unwrap_or_default();
        self.packet_filter = c.packet_filter.clone();
        self.allow = c.allow.join(", ");
    }

    /// Fills the form from a pasted SRT URI.
    pub fn fill_from_uri(&mut self) -> Result<(), String> {
        let c = config::parse_uri(self.paste_uri.trim(), "").map_err(|e| e.to_string())?;
        let file = std::mem::take(&mut self.file);
        self.fill_from(&c);
        self.file = file;
        Ok(())
    }

    /// The configuration, or the message for each field that is wrong.
    pub fn to_config(&self) -> Result<StreamConfig, Vec<(Field, String)>> {
        let mut errors = Vec::new();
        let num = |errors: &mut Vec<(Field, String)>, f: Field, text: &str, what: &str| -> u64 {
            match text.trim().parse::<u64>() {
                Ok(v) => v,
                Err(_) => {
                    errors.push((f, format!("{what} must be a whole number")));
                    0
                }
            }
        };
        if self.file.trim().is_empty() {
            errors.push((
                Field::File,
                "choose a .ts file (Browse…, drag it here, or a recent one), or a test signal"
                    .into(),
            ));
        } else if crate::media::testsignal::is_test_signal(self.file.trim()) {
            if let Err(e) = crate::media::testsignal::TestSignal::parse(self.file.trim()) {
                errors.push((Field::File, e));
            }
        }
        let port = num(&mut errors, Field::Port, &self.port, "the port");
        if port > 65535 {
            errors.push((Field::Port, "the port must be 1 to 65535".into()));
        }
        let local_port = if self.local_port.trim().is_empty() {
            0
        } else {
            num(
                &mut errors,
                Field::LocalPort,
                &self.local_port,
                "the local port",
            )
        };
        if local_port > 65535 {
            errors.push((Field::LocalPort, "the local port must be 1 to 65535".into()));
        }
        let latency = num(&mut errors, Field::Latency, &self.latency_ms, "latency");
        let overhead = num(
            &mut errors,
            Field::Overhead,
            &self.overhead_percent,
            "overhead",
        );
        let iptos = if self.dscp.trim().is_empty() {
            None
        } else {
            match parse_iptos(&self.dscp) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push((Field::Dscp, e.to_string()));
                    None
                }
            }
        };
        let bitrate = if self.bitrate.trim().is_empty() {
            None
        } else {
            Some(num(
                &mut errors,
                Field::Bitrate,
                &self.bitrate,
                "the bitrate",
            ))
        };
        let pcr_pid = if self.pcr_pid.trim().is_empty() {
            None
        } else {
            match crate::engine::config::parse_pid(&self.pcr_pid) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push((Field::PcrPid, e.to_string()));
                    None
                }
            }
        };
        let mut c = StreamConfig::new(self.file.trim(), self.mode, self.host.trim(), port as u16);
        c.name = self.name.trim().to_string();
        c.local_port = local_port as u16;
        c.latency_ms = latency.min(u64::from(u32::MAX)) as u32;
        c.overhead_percent = overhead.min(u64::from(u32::MAX)) as u32;
        c.encryption = self.encryption;
        c.passphrase = (self.encryption != Encryption::None && !self.passphrase.is_empty())
            .then(|| Passphrase::new(self.passphrase.clone()));
        c.stream_id = self.stream_id.clone();
        c.iptos = iptos;
        c.loop_mode = self.loop_mode;
        c.bitrate_bps = bitrate;
        c.pcr_pid = pcr_pid;
        c.packet_filter = self.packet_filter.trim().to_string();
        c.allow = self
            .allow
            .split([',', ';', ' '])
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().to_string())
            .collect();
        if errors.is_empty() {
            if let Err(e) = c.validate() {
                errors.push((field_of(&e), e.to_string()));
            }
        }
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    pub fn receiver_command(&self, r: Receiver, this_host: &str) -> Option<String> {
        let c = self.to_config().ok()?;
        Some(receiver_command(
            &c,
            r,
            this_host,
            self.commands_with_passphrase,
        ))
    }
}

fn field_of(e: &ConfigError) -> Field {
    match e {
        ConfigError::NoFile => Field::File,
        ConfigError::NoPort => Field::Port,
        ConfigError::NoHost(_) | ConfigError::BadHost(_) => Field::Host,
        ConfigError::Latency(_) => Field::Latency,
        ConfigError::Overhead(_) => Field::Overhead,
        ConfigError::PassphraseWithoutEncryption
        | ConfigError::EncryptionWithoutPassphrase
        | ConfigError::PassphraseLength(_)
        | ConfigError::PassphraseCharacters => Field::Passphrase,
        ConfigError::StreamIdLength(_) | ConfigError::StreamIdCharacters => Field::StreamId,
        ConfigError::Bitrate(_) => Field::Bitrate,
        ConfigError::Iptos(_) => Field::Dscp,
        ConfigError::PcrPid(_) => Field::PcrPid,
        ConfigError::PacketFilter { .. } => Field::PacketFilter,
        ConfigError::Allow(_) | ConfigError::AllowNotListener => Field::Allow,
        _ => Field::Host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_form_makes_a_config_and_bad_fields_say_why() {
        let mut f = StreamForm::new(&StreamDefaults::default(), "a.ts".into());
        f.dscp = "EF".into();
        let c = f.to_config().unwrap();
        assert_eq!(
            (c.mode, c.port, c.iptos),
            (Mode::Listener, 9000, Some(0xB8))
        );
        f.latency_ms = "5".into();
        let errs = f.to_config().unwrap_err();
        assert_eq!(errs[0].0, Field::Latency);
        assert!(errs[0].1.contains("20 to 8000"));
        f.latency_ms = "abc".into();
        assert_eq!(
            f.to_config().unwrap_err()[0].1,
            "latency must be a whole number"
        );
        f.latency_ms = "120".into();
        f.encryption = Encryption::Aes256;
        f.passphrase = "short".into();
        assert_eq!(f.to_config().unwrap_err()[0].0, Field::Passphrase);
        f.mode = Mode::Caller;
        f.passphrase = "long enough passphrase".into();
        assert_eq!(f.to_config().unwrap_err()[0].0, Field::Host);
    }

    #[test]
    fn pasted_uri_fills_the_form_and_keeps_the_file() {
        let mut f = StreamForm::new(&StreamDefaults::default(), "keep.ts".into());
        f.paste_uri = "srt://10.1.1.1:7001?mode=caller&latency=300&oheadbw=33&streamid=abc".into();
        f.fill_from_uri().unwrap();
        assert_eq!(f.file, "keep.ts");
        assert_eq!(
            (f.mode, f.host.as_str(), f.port.as_str()),
            (Mode::Caller, "10.1.1.1", "7001")
        );
        assert_eq!(
            (f.latency_ms.as_str(), f.overhead_percent.as_str()),
            ("300", "33")
        );
        f.paste_uri = "srt://:9000?qos=1".into();
        assert!(f.fill_from_uri().unwrap_err().contains("qos"));
    }
}
