//! The new-stream form: every engine setting with inline validation and the
//! Deployment Guide's advice in tooltips; filled from an SRT URI on request.

use super::files::ProbeSummary;
use super::settings::StreamDefaults;
use crate::engine::config::{
    self, parse_iptos, ConfigError, Encryption, LoopMode, Mode, StreamConfig,
};
use crate::engine::receiver_commands::{receiver_command, Receiver};
use crate::engine::{Passphrase, StreamId};
use crate::media::testsignal::{is_test_signal, TestSignal};
use std::path::PathBuf;

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

/// Why Start refuses while the URI field holds a URI not applied.
pub const URI_NOT_APPLIED: &str = "the URI typed above is not applied: press Enter in the field (or Fill form) to use it, or clear the field; nothing starts until then";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The "Paste SRT URI" field holds a URI not applied to the form.
    Uri,
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

/// What is known of the chosen file, for the path it was probed at.
#[derive(Debug, Clone, PartialEq)]
pub struct FileProbe {
    pub path: String,
    pub state: ProbeState,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProbeState {
    Probing,
    Opened(ProbeSummary),
    /// The probe's message: what is wrong and what to do.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamForm {
    pub name: String,
    pub file: String,
    pub mode: Mode,
    /// Caller and rendezvous: the receiver's host.
    pub host: String,
    /// Listener: the local address to listen on (empty: all interfaces). Kept
    /// apart from `host` so that switching modes never moves a value between them.
    pub bind: String,
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
    /// What the URI field showed once its URI was applied (passphrase
    /// masked); any other non-empty text is a URI not applied yet.
    pub paste_uri_applied: Option<String>,
    pub commands_with_passphrase: bool,
    /// The stream being edited (id, name); None: a new stream.
    pub editing: Option<(StreamId, String)>,
    /// The edited stream's settings as the form first read them (Apply is
    /// offered only once they change).
    pub edit_base: Option<StreamConfig>,
    /// The last probe of a file (None: none asked yet).
    pub probe: Option<FileProbe>,
    /// The file field has the keyboard: a typed path is probed when it is left.
    pub file_focused: bool,
}

impl StreamForm {
    pub fn new(d: &StreamDefaults, file: String) -> Self {
        Self {
            name: String::new(),
            file,
            mode: d.mode,
            host: String::new(),
            bind: String::new(),
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
            paste_uri_applied: None,
            commands_with_passphrase: false,
            editing: None,
            edit_base: None,
            probe: None,
            file_focused: false,
        }
    }

    /// Fills every setting from a configuration (the file stays if it has none).
    pub fn fill_from(&mut self, c: &StreamConfig) {
        if !c.file.as_os_str().is_empty() {
            self.file = c.file.display().to_string();
        }
        self.name = c.name.clone();
        self.mode = c.mode;
        match c.mode {
            Mode::Listener => self.bind = c.host.clone(),
            Mode::Caller | Mode::Rendezvous => self.host = c.host.clone(),
        }
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

    /// Opens the form on a stream's settings, to edit it in place.
    pub fn start_edit(&mut self, id: StreamId, name: String, c: &StreamConfig) {
        self.fill_from(c);
        self.editing = Some((id, name));
        self.edit_base = self.to_config().ok();
    }

    /// True while editing and the settings differ from the stream's.
    pub fn edit_changes(&self) -> bool {
        self.editing.is_some() && self.to_config().ok() != self.edit_base
    }

    /// Fills the form from the SRT URI in the URI field, which then shows it
    /// with its passphrase masked. A `passphrase=***` (the masked URI edited
    /// and applied again) keeps the form's passphrase.
    pub fn fill_from_uri(&mut self) -> Result<(), String> {
        let typed = self.paste_uri.trim().to_string();
        if self.paste_uri_applied.as_deref() == Some(typed.as_str()) {
            return Ok(());
        }
        let text = typed.replace("passphrase=***", &format!("passphrase={}", self.passphrase));
        let c = config::parse_uri(&text, "").map_err(|e| e.to_string())?;
        let file = std::mem::take(&mut self.file);
        self.fill_from(&c);
        self.file = file;
        let shown = config::mask_uri(&typed);
        self.paste_uri = shown.clone();
        self.paste_uri_applied = Some(shown);
        Ok(())
    }

    /// The URI field holds text that was neither applied nor cleared.
    pub fn uri_pending(&self) -> bool {
        let t = self.paste_uri.trim();
        !t.is_empty() && self.paste_uri_applied.as_deref() != Some(t)
    }

    /// The configuration, or the message for every field that is wrong (all
    /// at once, so the form can show each beside its field).
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
        let file = self.file.trim();
        if file.is_empty() {
            errors.push((
                Field::File,
                "choose a .ts file (Browse…, drag it here, or a recent one), or a test signal"
                    .into(),
            ));
        } else if is_test_signal(file) {
            if let Err(e) = TestSignal::parse(file) {
                errors.push((Field::File, e));
            }
        }
        let port = num(&mut errors, Field::Port, &self.port, "the port");
        if port > 65535 {
            errors.push((Field::Port, "the port must be 1 to 65535".into()));
        }
        // Fields the mode hides are left out, so they can neither apply nor
        // be wrong unseen.
        let local_port = if self.mode == Mode::Listener || self.local_port.trim().is_empty() {
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
        let host = match self.mode {
            Mode::Listener => self.bind.trim(),
            Mode::Caller | Mode::Rendezvous => self.host.trim(),
        };
        let mut c = StreamConfig::new(file, self.mode, host, port.min(65535) as u16);
        c.name = self.name.trim().to_string();
        c.local_port = local_port.min(65535) as u16;
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
        if self.mode == Mode::Listener {
            c.allow = self
                .allow
                .split([',', ';', ' '])
                .filter(|a| !a.trim().is_empty())
                .map(|a| a.trim().to_string())
                .collect();
        }
        if self.uri_pending() {
            errors.push((Field::Uri, URI_NOT_APPLIED.into()));
        }
        errors.extend(self.probe_errors(bitrate, pcr_pid));
        errors.extend(engine_errors(&c, &errors));
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    /// What the probe of the file in the field says against these settings:
    /// the file does not open; it has no PCR and no bitrate is given; the
    /// PCR PID carries none.
    fn probe_errors(&self, bitrate: Option<u64>, pcr_pid: Option<u16>) -> Vec<(Field, String)> {
        let Some(state) = self.probe_state() else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        match state {
            ProbeState::Probing => {}
            ProbeState::Failed(e) => errors.push((Field::File, e.clone())),
            ProbeState::Opened(s) => {
                if s.pcr_pid.is_none() && bitrate.is_none() {
                    errors.push((
                        Field::Bitrate,
                        "this file has no usable PCR to pace it: give its bitrate".into(),
                    ));
                }
                if let Some(pid) = pcr_pid.filter(|p| !s.pcr_pids.contains(p)) {
                    let available = if s.pcr_pids.is_empty() {
                        "none".to_string()
                    } else {
                        s.pcr_pids
                            .iter()
                            .map(|p| format!("{p:#06x}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    errors.push((
                        Field::PcrPid,
                        format!("PID {pid:#06x} carries no PCR in this file; PIDs with PCR: {available}"),
                    ));
                }
            }
        }
        errors
    }

    /// The probe of the file now in the field (None: a test signal, nothing
    /// chosen, or a path not probed yet).
    pub fn probe_state(&self) -> Option<&ProbeState> {
        self.probe
            .as_ref()
            .filter(|p| p.path == self.file.trim())
            .map(|p| &p.state)
    }

    /// The file to probe now, marked as probing: a path not probed yet (once
    /// the user has left the field), or any path when `again` (chosen anew).
    pub fn take_probe_request(&mut self, again: bool) -> Option<PathBuf> {
        let file = self.file.trim();
        if file.is_empty() || is_test_signal(file) || (self.file_focused && !again) {
            return None;
        }
        if !again && self.probe.as_ref().is_some_and(|p| p.path == file) {
            return None;
        }
        self.probe = Some(FileProbe {
            path: file.to_string(),
            state: ProbeState::Probing,
        });
        Some(PathBuf::from(file))
    }

    /// Takes a probe's answer if it is for the path last asked (a late answer
    /// for an earlier file is dropped). Returns whether it was taken.
    pub fn probed(&mut self, path: &str, result: Result<ProbeSummary, String>) -> bool {
        let Some(p) = self.probe.as_mut().filter(|p| p.path == path) else {
            return false;
        };
        p.state = match result {
            Ok(s) => ProbeState::Opened(s),
            Err(e) => ProbeState::Failed(e),
        };
        true
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

/// Every error the engine's own validation finds, one per field: each field
/// found wrong is set to a valid value and the check runs again. Fields that
/// already failed to parse are set aside first so they are not reported twice.
fn engine_errors(c: &StreamConfig, already: &[(Field, String)]) -> Vec<(Field, String)> {
    let mut c = c.clone();
    for (f, _) in already {
        set_aside(&mut c, *f);
    }
    let mut errors: Vec<(Field, String)> = Vec::new();
    while let Err(e) = c.validate() {
        let f = field_of(&e);
        if errors.iter().any(|(seen, _)| *seen == f) {
            // Setting the field aside did not clear it: stop rather than loop.
            break;
        }
        errors.push((f, e.to_string()));
        set_aside(&mut c, f);
    }
    errors
}

/// Replaces a field's value with one validation accepts.
fn set_aside(c: &mut StreamConfig, f: Field) {
    match f {
        Field::File => c.file = PathBuf::from("file.ts"),
        Field::Host => {
            c.host = "localhost".into();
            c.local_address.clear();
        }
        // Any port but 0 passes.
        Field::Port => c.port = 1,
        Field::LocalPort => c.local_port = 0,
        Field::Latency => c.latency_ms = config::DEFAULT_LATENCY_MS,
        Field::Overhead => c.overhead_percent = config::DEFAULT_OVERHEAD_PERCENT,
        Field::Passphrase => {
            c.encryption = Encryption::None;
            c.passphrase = None;
        }
        Field::StreamId => c.stream_id.clear(),
        Field::Dscp => c.iptos = None,
        Field::Bitrate => c.bitrate_bps = None,
        Field::PcrPid => c.pcr_pid = None,
        Field::PacketFilter => c.packet_filter.clear(),
        Field::Allow => c.allow.clear(),
        // Not a setting of the configuration.
        Field::Uri => {}
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

    fn fields(f: &StreamForm) -> Vec<Field> {
        f.to_config()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn every_wrong_field_is_reported_at_once_and_each_clears_when_fixed() {
        let mut f = StreamForm::new(&StreamDefaults::default(), "a.ts".into());
        f.mode = Mode::Caller;
        f.latency_ms = "5".into();
        f.port = "x".into();
        f.encryption = Encryption::Aes128;
        f.passphrase = "short".into();
        assert_eq!(
            fields(&f),
            [Field::Port, Field::Host, Field::Latency, Field::Passphrase]
        );
        f.port = "9000".into();
        f.host = "10.0.0.5".into();
        assert_eq!(fields(&f), [Field::Latency, Field::Passphrase]);
        f.latency_ms = "200".into();
        f.passphrase = "long enough passphrase".into();
        assert!(f.to_config().is_ok());
    }

    #[test]
    fn each_mode_keeps_its_own_address() {
        let mut f = StreamForm::new(&StreamDefaults::default(), "a.ts".into());
        f.mode = Mode::Caller;
        f.host = "10.0.0.5".into();
        f.mode = Mode::Listener;
        assert_eq!(f.to_config().unwrap().host, "");
        f.bind = "127.0.0.1".into();
        f.mode = Mode::Caller;
        assert_eq!(f.to_config().unwrap().host, "10.0.0.5");
        // A hidden allow-list neither applies to a caller nor blocks it.
        f.allow = "10.0.0.0/8".into();
        assert!(f.to_config().unwrap().allow.is_empty());
    }

    fn summary(pcr_pid: Option<u16>) -> ProbeSummary {
        ProbeSummary {
            duration_secs: 12.0,
            bitrate_bps: 5e6,
            peak_bps: 5e6,
            pcr_pid,
            pcr_pids: pcr_pid.into_iter().collect(),
            packet_bytes: 188,
            packets: 40_000,
            programmes: vec![(1, None)],
            sampled: false,
        }
    }

    #[test]
    fn the_probe_of_the_file_in_the_field_counts_and_a_late_one_for_another_does_not() {
        let mut f = StreamForm::new(&StreamDefaults::default(), "a.ts".into());
        assert_eq!(f.take_probe_request(false), Some(PathBuf::from("a.ts")));
        assert_eq!(f.take_probe_request(false), None, "asked once");
        f.file = "b.ts".into();
        let b = f.take_probe_request(false);
        assert!(!f.probed("a.ts", Err("not a transport stream".into())));
        assert_eq!(f.probe_state(), Some(&ProbeState::Probing));
        assert!(f.probed("b.ts", Err("b.ts is not a transport stream".into())));
        assert_eq!((b, fields(&f)), (Some("b.ts".into()), vec![Field::File]));
        // A file without PCR needs a bitrate; a PCR PID must carry PCRs.
        assert!(f.probed("b.ts", Ok(summary(None))));
        assert_eq!(fields(&f), [Field::Bitrate]);
        f.bitrate = "4000000".into();
        assert!(f.to_config().is_ok());
        assert!(f.probed("b.ts", Ok(summary(Some(0x100)))));
        f.pcr_pid = "0x101".into();
        let e = f.to_config().unwrap_err();
        assert!(
            e[0].1.contains("0x0101") && e[0].1.contains("0x0100"),
            "{e:?}"
        );
        // Test signals are not probed.
        f.file = "testsrc:bitrate=5000000".into();
        assert_eq!(f.take_probe_request(true), None);
    }
}
