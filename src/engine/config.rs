//! What one stream is: file, SRT endpoint and settings. Validation with
//! messages that say what to do, and SRT URI parsing/printing (secrets masked).

use super::secret::Passphrase;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

pub const LATENCY_MS_RANGE: (u32, u32) = (20, 8000);
pub const OVERHEAD_PERCENT_RANGE: (u32, u32) = (5, 100);
pub const PASSPHRASE_LEN_RANGE: (usize, usize) = (10, 79);
pub const STREAM_ID_MAX_LEN: usize = 512;
pub const DEFAULT_LATENCY_MS: u32 = 120;
pub const DEFAULT_OVERHEAD_PERCENT: u32 = 25;
/// A constant pacing rate (`bitrate=`), bit/s.
pub const BITRATE_BPS_RANGE: (u64, u64) = (10_000, 1_000_000_000);
/// PIDs that can carry a PCR.
pub const PCR_PID_RANGE: (u16, u16) = (0x0010, 0x1FFE);
/// Seconds between statistics records (`--stats-interval`).
pub const STATS_INTERVAL_SECS_RANGE: (f64, f64) = (0.1, 3600.0);

/// How this end of the SRT connection is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Bind and wait; every caller that connects receives the stream.
    Listener,
    /// Connect to a listener at host:port; reconnect when it goes away.
    Caller,
    /// Both ends connect to each other at the same time.
    Rendezvous,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Listener => "listener",
            Mode::Caller => "caller",
            Mode::Rendezvous => "rendezvous",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// AES key length for SRT encryption. Read from any spelling users type
/// (`aes-256`, `AES256`, `aes_128`, `256`, libsrt's `32`, `none`); written
/// as `aes128`/`aes192`/`aes256`/`none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encryption {
    #[default]
    None,
    Aes128,
    Aes192,
    Aes256,
}

impl Encryption {
    /// libsrt's `pbkeylen` (key length in bytes).
    pub fn pbkeylen(self) -> u32 {
        match self {
            Encryption::None => 0,
            Encryption::Aes128 => 16,
            Encryption::Aes192 => 24,
            Encryption::Aes256 => 32,
        }
    }

    pub fn from_pbkeylen(n: u32) -> Option<Self> {
        match n {
            0 => Some(Encryption::None),
            16 => Some(Encryption::Aes128),
            24 => Some(Encryption::Aes192),
            32 => Some(Encryption::Aes256),
            _ => None,
        }
    }
}

/// The words accepted for an [`Encryption`], for messages.
pub const ENCRYPTION_WORDS: &str =
    "none, aes-128, aes-192 or aes-256 (also AES128, aes_256, 128/192/256, or libsrt's pbkeylen 0/16/24/32)";

impl std::str::FromStr for Encryption {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let word: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        let bits = word.strip_prefix("aes").unwrap_or(&word);
        match bits {
            "none" | "off" | "0" => Ok(Encryption::None),
            "128" | "16" => Ok(Encryption::Aes128),
            "192" | "24" => Ok(Encryption::Aes192),
            "256" | "32" => Ok(Encryption::Aes256),
            _ => Err(ConfigError::Encryption(s.to_string())),
        }
    }
}

impl<'de> Deserialize<'de> for Encryption {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u32),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::Number(n) => n.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What happens at the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoopMode {
    /// Restamp PCR/PTS/DTS and continue continuity counters: one endless stream.
    #[default]
    Seamless,
    /// Start over with discontinuity_indicator set on each PID's first packet.
    Signalled,
    /// Stop at the end of the file.
    Off,
}

/// A word that is not a [`LoopMode`], named by the option it was given for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeWordError {
    #[error("'{0}' is not a loop mode: use seamless (restamped, continuous), signalled (discontinuity_indicator set) or off (stop at the end)")]
    Loop(String),
    #[error("'{0}' is not a repair mode (the output timeline across a switch): use seamless (restamped, continuous), signalled (discontinuity_indicator set) or off (sent as it comes)")]
    Repair(String),
}

impl LoopMode {
    fn from_word(s: &str) -> Option<Self> {
        match s {
            "seamless" => Some(LoopMode::Seamless),
            "signalled" | "signaled" => Some(LoopMode::Signalled),
            "off" => Some(LoopMode::Off),
            _ => None,
        }
    }

    /// The value of `--repair` / `repair =`: the timeline repair at a switch.
    pub fn parse_repair(s: &str) -> Result<Self, ModeWordError> {
        Self::from_word(s).ok_or_else(|| ModeWordError::Repair(s.to_string()))
    }
}

impl std::str::FromStr for LoopMode {
    type Err = ModeWordError;
    fn from_str(s: &str) -> Result<Self, ModeWordError> {
        Self::from_word(s).ok_or_else(|| ModeWordError::Loop(s.to_string()))
    }
}

/// One stream: a TS file played out over SRT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    #[serde(default)]
    pub name: String,
    pub file: PathBuf,
    pub mode: Mode,
    /// Remote host for caller and rendezvous; local bind address for a
    /// listener (empty: all interfaces).
    #[serde(default)]
    pub host: String,
    /// Remote port (caller, rendezvous) or the port to listen on.
    pub port: u16,
    /// Local port for caller/rendezvous (0: any for caller, `port` for rendezvous).
    #[serde(default)]
    pub local_port: u16,
    /// Local address to bind for caller/rendezvous (empty: all interfaces).
    #[serde(default)]
    pub local_address: String,
    #[serde(default = "default_latency")]
    pub latency_ms: u32,
    #[serde(default = "default_overhead")]
    pub overhead_percent: u32,
    #[serde(default)]
    pub encryption: Encryption,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<Passphrase>,
    #[serde(default)]
    pub stream_id: String,
    /// IP type-of-service byte (DSCP << 2): EF = 0xB8 (184), AF41 = 0x88 (136).
    #[serde(default)]
    pub iptos: Option<u8>,
    #[serde(default, rename = "loop")]
    pub loop_mode: LoopMode,
    /// Pace at this constant bitrate instead of by PCR (for files without PCR).
    #[serde(default)]
    pub bitrate_bps: Option<u64>,
    /// Pace by this PID's PCRs (an MPTS); default: the first programme's PCR PID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcr_pid: Option<u16>,
    /// libsrt packet filter, e.g. `fec,cols:10,rows:5` (empty: none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub packet_filter: String,
    /// Listener: caller addresses allowed, as CIDR ranges (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
}

fn default_latency() -> u32 {
    DEFAULT_LATENCY_MS
}
fn default_overhead() -> u32 {
    DEFAULT_OVERHEAD_PERCENT
}

impl StreamConfig {
    pub fn new(file: impl Into<PathBuf>, mode: Mode, host: &str, port: u16) -> Self {
        Self {
            name: String::new(),
            file: file.into(),
            mode,
            host: host.to_string(),
            port,
            local_port: 0,
            local_address: String::new(),
            latency_ms: DEFAULT_LATENCY_MS,
            overhead_percent: DEFAULT_OVERHEAD_PERCENT,
            encryption: Encryption::None,
            passphrase: None,
            stream_id: String::new(),
            iptos: None,
            loop_mode: LoopMode::Seamless,
            bitrate_bps: None,
            pcr_pid: None,
            packet_filter: String::new(),
            allow: Vec::new(),
        }
    }

    /// A name for messages: the given one, or file name and endpoint.
    pub fn display_name(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        let file = self
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.file.display().to_string());
        format!("{file} @ {}", self.endpoint())
    }

    /// `host:port` as the user thinks of it (listener: `:port` on all interfaces).
    pub fn endpoint(&self) -> String {
        format!("{}:{}", url_host(&self.host), self.port)
    }

    /// Checks every setting; the error says what is wrong and how to fix it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.file.as_os_str().is_empty() {
            return Err(ConfigError::NoFile);
        }
        if self.port == 0 {
            return Err(ConfigError::NoPort);
        }
        match self.mode {
            Mode::Caller | Mode::Rendezvous if self.host.trim().is_empty() => {
                return Err(ConfigError::NoHost(self.mode));
            }
            _ => {}
        }
        for h in [&self.host, &self.local_address] {
            if !h.is_empty() && !valid_host(h) {
                return Err(ConfigError::BadHost(h.clone()));
            }
        }
        let (lo, hi) = LATENCY_MS_RANGE;
        if !(lo..=hi).contains(&self.latency_ms) {
            return Err(ConfigError::Latency(self.latency_ms));
        }
        let (lo, hi) = OVERHEAD_PERCENT_RANGE;
        if !(lo..=hi).contains(&self.overhead_percent) {
            return Err(ConfigError::Overhead(self.overhead_percent));
        }
        match (&self.encryption, &self.passphrase) {
            (Encryption::None, Some(p)) if !p.is_empty() => {
                return Err(ConfigError::PassphraseWithoutEncryption)
            }
            (Encryption::None, _) => {}
            (_, None) => return Err(ConfigError::EncryptionWithoutPassphrase),
            (_, Some(p)) => {
                let (lo, hi) = PASSPHRASE_LEN_RANGE;
                if !(lo..=hi).contains(&p.len()) {
                    return Err(ConfigError::PassphraseLength(p.len()));
                }
                if !p.expose().is_ascii() || p.expose().chars().any(|c| c.is_control()) {
                    return Err(ConfigError::PassphraseCharacters);
                }
            }
        }
        if self.stream_id.len() > STREAM_ID_MAX_LEN {
            return Err(ConfigError::StreamIdLength(self.stream_id.len()));
        }
        if self.stream_id.chars().any(|c| c.is_control()) {
            return Err(ConfigError::StreamIdCharacters);
        }
        if let Some(b) = self.bitrate_bps {
            if !(BITRATE_BPS_RANGE.0..=BITRATE_BPS_RANGE.1).contains(&b) {
                return Err(ConfigError::Bitrate(b));
            }
        }
        if let Some(pid) = self.pcr_pid {
            if !(PCR_PID_RANGE.0..=PCR_PID_RANGE.1).contains(&pid) {
                return Err(ConfigError::PcrPid(pid.to_string()));
            }
        }
        if !self.packet_filter.is_empty() {
            check_packet_filter(&self.packet_filter)?;
        }
        for a in &self.allow {
            if super::link::Cidr::parse(a).is_none() {
                return Err(ConfigError::Allow(a.clone()));
            }
        }
        if !self.allow.is_empty() && self.mode != Mode::Listener {
            return Err(ConfigError::AllowNotListener);
        }
        Ok(())
    }

    /// What to ask of the probe for this stream's file.
    pub fn probe_request(&self) -> super::source::ProbeRequest {
        super::source::ProbeRequest {
            bitrate_bps: self.bitrate_bps,
            pcr_pid: self.pcr_pid,
        }
    }

    /// The SRT URI for this stream in the srt-live-transmit/ffmpeg convention.
    /// The passphrase is printed as `***` unless `reveal_passphrase` is set.
    pub fn to_uri(&self, reveal_passphrase: bool) -> String {
        let mut q = vec![format!("mode={}", self.mode)];
        q.push(format!("latency={}", self.latency_ms));
        if self.overhead_percent != DEFAULT_OVERHEAD_PERCENT {
            q.push(format!("oheadbw={}", self.overhead_percent));
        }
        if self.encryption != Encryption::None {
            q.push(format!("pbkeylen={}", self.encryption.pbkeylen()));
            if let Some(p) = &self.passphrase {
                let text = if reveal_passphrase {
                    percent_encode(p.expose())
                } else {
                    "***".to_string()
                };
                q.push(format!("passphrase={text}"));
            }
        }
        if !self.stream_id.is_empty() {
            q.push(format!("streamid={}", percent_encode(&self.stream_id)));
        }
        if let Some(t) = self.iptos {
            q.push(format!("iptos={t}"));
        }
        if self.local_port != 0 {
            q.push(format!("localport={}", self.local_port));
        }
        if !self.local_address.is_empty() {
            q.push(format!("adapter={}", self.local_address));
        }
        if let Some(pid) = self.pcr_pid {
            q.push(format!("pcr_pid={pid:#06x}"));
        }
        if !self.packet_filter.is_empty() {
            q.push(format!("packetfilter={}", self.packet_filter));
        }
        if !self.allow.is_empty() {
            q.push(format!("allow={}", self.allow.join(",")));
        }
        format!("srt://{}?{}", self.endpoint(), q.join("&"))
    }
}

/// Largest FEC matrix (columns × rows) we send or accept. Debian's libsrt
/// 1.5.1 crashes the *receiving* side once the matrix exceeds about a
/// quarter of its receive buffer in packets (EmergencyShrink, fixed in
/// 1.5.2): ~2048 cells with the default buffer, ~170 with a 1 MB one
/// (measured with srt-live-transmit, see tests/interop.rs). We cannot know a
/// peer's buffer, so 100 keeps any receiver with ≥ 400 packets safe.
pub const FEC_MAX_CELLS: u32 = 100;
/// Most columns or rows libsrt's FEC filter takes in 1.5.1.
pub const FEC_MAX_SIDE: u32 = 100;

/// Checks `fec,cols:N,rows:M[,layout:even|staircase][,arq:always|onreq|never]`.
pub fn check_packet_filter(spec: &str) -> Result<(), ConfigError> {
    let bad = |why: String| ConfigError::PacketFilter {
        spec: spec.to_string(),
        why,
    };
    let mut parts = spec.split(',');
    if parts.next() != Some("fec") {
        return Err(bad("only the fec filter exists: start with fec,".into()));
    }
    let (mut cols, mut rows) = (None, 1u32);
    for p in parts {
        let (k, v) = p
            .split_once(':')
            .ok_or_else(|| bad(format!("'{p}' is not key:value")))?;
        let num = || {
            v.parse::<u32>()
                .ok()
                .filter(|n| (1..=FEC_MAX_SIDE).contains(n))
                .ok_or_else(|| bad(format!("{k} must be a number from 1 to {FEC_MAX_SIDE}")))
        };
        match k {
            "cols" => {
                let c = num()?;
                if c < 2 {
                    return Err(bad("cols must be at least 2 (libsrt refuses 1)".into()));
                }
                cols = Some(c)
            }
            "rows" => rows = num()?,
            "layout" if matches!(v, "even" | "staircase") => {}
            "arq" if matches!(v, "always" | "onreq" | "never") => {}
            "layout" | "arq" => return Err(bad(format!("{k}:{v} is not a value libsrt knows"))),
            _ => {
                return Err(bad(format!(
                    "unknown key '{k}' (use cols, rows, layout, arq)"
                )))
            }
        }
    }
    let cols = cols.ok_or_else(|| bad("cols:N is required".into()))?;
    if cols * rows > FEC_MAX_CELLS {
        return Err(bad(format!(
            "a {cols}×{rows} matrix is larger than {FEC_MAX_CELLS} cells, which crashes this machine's libsrt 1.5.1 (fixed in 1.5.2): use a smaller matrix"
        )));
    }
    Ok(())
}

/// Hostnames and IP literals only: letters, digits, dots, dashes, colons.
fn valid_host(host: &str) -> bool {
    host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_' | '%'))
}

/// Parses a DSCP/TOS value: a number (TOS byte, decimal or 0x hex) or a DSCP
/// class name (EF, AF11..AF43, CS0..CS7), which is turned into the TOS byte.
pub fn parse_iptos(s: &str) -> Result<u8, ConfigError> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let dscp = match upper.as_str() {
        "EF" => Some(46),
        _ if upper.starts_with("CS") && upper.len() == 3 => upper[2..]
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= 7)
            .map(|n| n * 8),
        _ if upper.starts_with("AF") && upper.len() == 4 => {
            let class = upper[2..3]
                .parse::<u8>()
                .ok()
                .filter(|c| (1..=4).contains(c));
            let drop = upper[3..4]
                .parse::<u8>()
                .ok()
                .filter(|d| (1..=3).contains(d));
            class.zip(drop).map(|(c, d)| c * 8 + d * 2)
        }
        _ => None,
    };
    if let Some(d) = dscp {
        return Ok(d << 2);
    }
    let n = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else {
        t.parse::<u32>().ok()
    };
    n.and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| ConfigError::Iptos(s.to_string()))
}

/// Why a stream configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("packet filter '{spec}': {why}")]
    PacketFilter { spec: String, why: String },
    #[error("allow-list entry '{0}' is not an address or CIDR range (e.g. 10.0.0.0/8, 192.168.1.20, 2001:db8::/32)")]
    Allow(String),
    #[error("an allow-list applies to listener streams only (callers connect out)")]
    AllowNotListener,
    #[error("no file given: choose a .ts file to play")]
    NoFile,
    #[error("no port given: add the SRT port, e.g. srt://:9000 or srt://host:9000")]
    NoPort,
    #[error("no port given: add the UDP port, e.g. {0}")]
    UdpNoPort(&'static str),
    #[error(
        "iface={value}: {why}; the interfaces here are: {known} (give a name or an IPv4 address)"
    )]
    Interface {
        value: String,
        why: &'static str,
        known: String,
    },
    #[error("{0} mode needs the receiver's host: use srt://HOST:PORT?mode={0}")]
    NoHost(Mode),
    #[error("'{0}' is not a valid host name or IP address")]
    BadHost(String),
    #[error("latency {0} ms is out of range: use {lo} to {hi} ms (libsrt default {DEFAULT_LATENCY_MS}; rule of thumb 4 × RTT)", lo = LATENCY_MS_RANGE.0, hi = LATENCY_MS_RANGE.1)]
    Latency(u32),
    #[error("overhead {0} % is out of range: libsrt accepts {lo} to {hi} % (default {DEFAULT_OVERHEAD_PERCENT})", lo = OVERHEAD_PERCENT_RANGE.0, hi = OVERHEAD_PERCENT_RANGE.1)]
    Overhead(u32),
    #[error(
        "a passphrase was given but encryption is off: set pbkeylen=16, 24 or 32 (AES-128/192/256)"
    )]
    PassphraseWithoutEncryption,
    #[error("encryption needs a passphrase of {lo} to {hi} characters", lo = PASSPHRASE_LEN_RANGE.0, hi = PASSPHRASE_LEN_RANGE.1)]
    EncryptionWithoutPassphrase,
    #[error("passphrase has {0} characters: SRT needs {lo} to {hi}", lo = PASSPHRASE_LEN_RANGE.0, hi = PASSPHRASE_LEN_RANGE.1)]
    PassphraseLength(usize),
    #[error("passphrase must be printable ASCII so every SRT receiver can type it")]
    PassphraseCharacters,
    #[error("stream ID has {0} bytes: SRT allows at most {STREAM_ID_MAX_LEN}")]
    StreamIdLength(usize),
    #[error("stream ID must not contain control characters")]
    StreamIdCharacters,
    #[error("bitrate {0} bit/s is out of range: give {lo} to {hi}", lo = BITRATE_BPS_RANGE.0, hi = BITRATE_BPS_RANGE.1)]
    Bitrate(u64),
    #[error("pcr_pid '{0}' is not a PID that can carry a PCR: give {lo} to {hi}, or hex {lo:#06x} to {hi:#06x} (see `srt-streamer analyze FILE` for the file's PCR PIDs)", lo = PCR_PID_RANGE.0, hi = PCR_PID_RANGE.1)]
    PcrPid(String),
    #[error("'{0}' is not a TOS/DSCP value: give 0-255, 0xB8, or a class name such as EF or AF41")]
    Iptos(String),
    #[error("'{0}' is not an SRT URI: use srt://[host]:port?mode=listener|caller|rendezvous (or udp://HOST:PORT for UDP)")]
    UriScheme(String),
    #[error("bad URI '{uri}': {why}")]
    Uri { uri: String, why: String },
    #[error("'{key}' is not an option of srt:// URIs (known: {known})", known = uri_key_names())]
    UnknownOption { key: String },
    #[error("'{key}' is given twice in the URI: give each option once")]
    DuplicateOption { key: String },
    #[error("encryption '{0}' is not known: use {ENCRYPTION_WORDS}")]
    Encryption(String),
    #[error("{key}={value}: {why}")]
    OptionValue {
        key: String,
        value: String,
        why: String,
    },
    /// `profile=NAME` names no profile, or the profile is out of range.
    #[error(transparent)]
    Profile(#[from] Box<crate::engine::channel::ProfileError>),
}

mod uri;
pub(crate) use uri::parse_number;
use uri::percent_encode;
pub use uri::{mask_uri, parse_pid, parse_uri, uri_help, uri_key_names, url_host, URI_KEYS};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dscp_names_become_tos_bytes() {
        assert_eq!(parse_iptos("EF").unwrap(), 0xB8);
        assert_eq!(parse_iptos("af41").unwrap(), 0x88);
        assert_eq!(parse_iptos("CS5").unwrap(), 0xA0);
        assert_eq!(parse_iptos("0xB8").unwrap(), 184);
        assert_eq!(parse_iptos("136").unwrap(), 136);
        assert!(parse_iptos("AF51").is_err());
        assert!(parse_iptos("300").is_err());
    }
}
