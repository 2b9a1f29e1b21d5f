//! SRT URIs: `srt://[host]:port?key=value&…` parsed into a
//! [`StreamConfig`] one way for every face (CLI, TOML, form), printed with
//! secrets masked; [`URI_KEYS`] is the one list of keys.

use super::{parse_iptos, ConfigError, Encryption, Mode, StreamConfig};
use crate::engine::secret::Passphrase;
use std::path::PathBuf;

pub(super) fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A PID in decimal or `0x` hex.
pub fn parse_pid(value: &str) -> Result<u16, ConfigError> {
    let v = value.trim();
    let n = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => v.parse::<u16>().ok(),
    };
    n.filter(|p| (super::PCR_PID_RANGE.0..=super::PCR_PID_RANGE.1).contains(p))
        .ok_or_else(|| ConfigError::PcrPid(value.to_string()))
}

/// A URI key's number; a negative one for a key that takes none is refused
/// as such, not as "not a number".
pub(crate) fn parse_number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value.parse::<T>().map_err(|_| {
        let negative = value
            .trim()
            .strip_prefix('-')
            .is_some_and(|n| n.parse::<f64>().is_ok());
        let why = if negative {
            "must be 0 or more (negative values are not allowed)"
        } else if value.trim().is_empty() {
            "give a number"
        } else {
            "not a number"
        };
        ConfigError::OptionValue {
            key: key.to_string(),
            value: value.to_string(),
            why: why.to_string(),
        }
    })
}

/// Every key an SRT URI may carry: the one list the parser's messages and
/// `play --help` read (a unit test checks the parser takes each one).
pub const URI_KEYS: &[&str] = &[
    "mode",
    "latency",
    "oheadbw",
    "passphrase",
    "pbkeylen",
    "streamid",
    "iptos",
    "localport",
    "adapter",
    "bitrate",
    "pcr_pid",
    "packetfilter",
    "allow",
];

/// What a URI key means, with its range and default from the constants.
fn uri_key_help(key: &str) -> String {
    use super::*;
    let (lat, oh, pass) = (
        LATENCY_MS_RANGE,
        OVERHEAD_PERCENT_RANGE,
        PASSPHRASE_LEN_RANGE,
    );
    match key {
        "mode" => "listener (empty host, 0.0.0.0 or [::]), caller (host given) or rendezvous".into(),
        "latency" => format!("SRT latency in ms, {}-{} (default {DEFAULT_LATENCY_MS}; rule of thumb 4 x RTT)", lat.0, lat.1),
        "oheadbw" => format!("overhead for retransmissions, % of the file's bitrate, {}-{} (default {DEFAULT_OVERHEAD_PERCENT})", oh.0, oh.1),
        "passphrase" => format!("AES passphrase, {}-{} printable characters", pass.0, pass.1),
        "pbkeylen" => "key length: 16, 24 or 32 (or aes-128, aes-192, aes-256); 16 when only a passphrase is given".into(),
        "streamid" => format!("SRT stream ID (at most {STREAM_ID_MAX_LEN} bytes); on a listener, the ID callers must ask for"),
        "iptos" => "IP TOS byte for DSCP: 0-255, 0xB8, or a class name (EF, AF41, CS5)".into(),
        "localport" => "local port for caller and rendezvous (rendezvous: the same port)".into(),
        "adapter" => "local address to bind for caller and rendezvous (also: localaddress)".into(),
        "bitrate" => format!("pace at this constant rate in bit/s ({}-{}) instead of by PCR", BITRATE_BPS_RANGE.0, BITRATE_BPS_RANGE.1),
        "pcr_pid" => "pace a multi-programme file by this PID's PCRs (decimal or 0x hex)".into(),
        "packetfilter" => format!("SRT FEC: fec,cols:N,rows:M[,layout:even|staircase][,arq:always|onreq|never], at most {FEC_MAX_CELLS} cells"),
        "allow" => "listener only: caller addresses allowed, addresses or CIDR ranges, comma-separated".into(),
        _ => String::new(),
    }
}

/// The keys of [`URI_KEYS`], comma-separated.
pub fn uri_key_names() -> String {
    URI_KEYS.join(", ")
}

/// [`URI_KEYS`] as a help text, one key a line.
pub fn uri_help() -> String {
    let mut text = String::from(
        "URI: srt://[host]:port?key=value&...  (an empty host, 0.0.0.0 or [::] means a listener; [::] serves IPv4 too)\n\nURI keys:\n",
    );
    for key in URI_KEYS {
        text.push_str(&format!("  {key:<13}{}\n", uri_key_help(key)));
    }
    use crate::engine::channel::udp_uri::{UDP_INPUT_KEYS, UDP_OUTPUT_KEYS};
    text.push_str(&format!(
        "\nUDP: udp://HOST:PORT or udp://GROUP:PORT (multicast) to send (keys: {UDP_OUTPUT_KEYS}; \
         ttl 1-255, iptos e.g. EF or 46, delay in ms, pacing spin|sleep|txtime); \
         udp://:PORT or udp://@GROUP:PORT to receive (keys: {UDP_INPUT_KEYS}; repace pcr|arrival). \
         --bitrate applies to SRT outputs only.\n"
    ));
    text
}

/// Parses `srt://[host]:port?key=value&...` for `file` into a stream config.
/// An empty host means listener on all interfaces unless `mode` says otherwise.
///
/// ```
/// use srt_streamer::engine::config::{parse_uri, Encryption, Mode};
/// let cfg = parse_uri("srt://:9000?latency=400&passphrase=0123456789ab&pbkeylen=32", "a.ts").unwrap();
/// assert_eq!((cfg.mode, cfg.port, cfg.latency_ms), (Mode::Listener, 9000, 400));
/// assert_eq!(cfg.encryption, Encryption::Aes256);
/// assert!(cfg.validate().is_ok());
/// // Printed URIs mask the passphrase unless asked not to.
/// assert_eq!(cfg.to_uri(false), "srt://:9000?mode=listener&latency=400&pbkeylen=32&passphrase=***");
/// // Keys libsrt does not know are refused, not silently dropped.
/// assert!(parse_uri("srt://:9000?overheadbandwidth=25", "a.ts").is_err());
/// ```
pub fn parse_uri(uri: &str, file: impl Into<PathBuf>) -> Result<StreamConfig, ConfigError> {
    let rest = uri
        .strip_prefix("srt://")
        .ok_or_else(|| ConfigError::UriScheme(mask_uri(uri)))?;
    let bad = |why: &str| ConfigError::Uri {
        uri: mask_uri(uri),
        why: why.to_string(),
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.trim_end_matches('/');
    let (host, port_str) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in IPv6 address"))?;
        (h, p.strip_prefix(':').unwrap_or(""))
    } else {
        authority.rsplit_once(':').unwrap_or((authority, ""))
    };
    if port_str.is_empty() {
        return Err(ConfigError::NoPort);
    }
    let port: u16 = port_str
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
    // Any address on this machine (empty, 0.0.0.0, [::]) can only be listened on.
    let default_mode = if host.is_empty() || is_any_address(host) {
        Mode::Listener
    } else {
        Mode::Caller
    };
    let mut cfg = StreamConfig::new(file, default_mode, host, port);
    let mut pbkeylen: Option<Encryption> = None;
    let mut seen = std::collections::HashSet::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(raw).ok_or_else(|| bad("bad %-escape in the query"))?;
        let canonical = if key == "localaddress" {
            "adapter"
        } else {
            key
        };
        if !seen.insert(canonical.to_string()) {
            return Err(ConfigError::DuplicateOption { key: key.into() });
        }
        match key {
            "mode" => {
                cfg.mode = match value.as_str() {
                    "listener" | "server" => Mode::Listener,
                    "caller" | "client" => Mode::Caller,
                    "rendezvous" => Mode::Rendezvous,
                    _ => {
                        return Err(ConfigError::OptionValue {
                            key: key.into(),
                            value,
                            why: "use listener, caller or rendezvous".into(),
                        })
                    }
                }
            }
            "latency" => cfg.latency_ms = parse_number(key, &value)?,
            "oheadbw" => cfg.overhead_percent = parse_number(key, &value)?,
            "passphrase" => cfg.passphrase = Some(Passphrase::new(value)),
            "pbkeylen" => {
                pbkeylen = Some(value.parse().map_err(|_| ConfigError::OptionValue {
                    key: key.into(),
                    value: value.clone(),
                    why: "use 16, 24 or 32 (AES-128/192/256), or 0 for none".into(),
                })?)
            }
            "streamid" => cfg.stream_id = value,
            "iptos" => cfg.iptos = Some(parse_iptos(&value)?),
            "localport" => cfg.local_port = parse_number(key, &value)?,
            "adapter" | "localaddress" => cfg.local_address = value,
            "bitrate" => cfg.bitrate_bps = Some(parse_number(key, &value)?),
            "pcr_pid" => cfg.pcr_pid = Some(parse_pid(&value)?),
            "packetfilter" => cfg.packet_filter = value,
            "allow" => {
                cfg.allow = value
                    .split([',', ';', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            _ => return Err(ConfigError::UnknownOption { key: key.into() }),
        }
    }
    cfg.encryption = match pbkeylen {
        Some(e) => e,
        // libsrt's default key length when only a passphrase is given.
        None if cfg.passphrase.is_some() => Encryption::Aes128,
        None => Encryption::None,
    };
    if cfg.mode == Mode::Listener && cfg.host == "0.0.0.0" {
        cfg.host.clear();
    }
    Ok(cfg)
}

/// An address that means "every interface of this machine".
fn is_any_address(host: &str) -> bool {
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

/// Replaces the value of any `passphrase=` in a URI-like text with `***`,
/// and an RTMP URI's stream key (with the platform's query) with `***`.
pub fn mask_uri(uri: &str) -> String {
    if let Some(masked) = super::rtmp_text::mask_rtmp(uri) {
        return masked;
    }
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_string();
    };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("passphrase", _)) => "passphrase=***".to_string(),
            _ => pair.to_string(),
        })
        .collect();
    format!("{head}?{}", masked.join("&"))
}

/// A host as written in a URI or `host:port`: IPv6 addresses in brackets.
pub fn url_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listener_and_caller_uris() {
        let c = parse_uri("srt://:9000", "a.ts").unwrap();
        assert_eq!(
            (c.mode, c.host.as_str(), c.port),
            (Mode::Listener, "", 9000)
        );
        let c = parse_uri(
            "srt://10.1.2.3:7001?mode=caller&latency=400&passphrase=abc%20defghijk&pbkeylen=24&streamid=%23!::r=live,m=publish&oheadbw=33&iptos=EF",
            "a.ts",
        )
        .unwrap();
        assert_eq!(c.mode, Mode::Caller);
        assert_eq!(c.latency_ms, 400);
        assert_eq!(c.passphrase.as_ref().unwrap().expose(), "abc defghijk");
        assert_eq!(c.encryption, Encryption::Aes192);
        assert_eq!(c.stream_id, "#!::r=live,m=publish");
        assert_eq!(c.overhead_percent, 33);
        assert_eq!(c.iptos, Some(0xB8));
        c.validate().unwrap();
        let printed = c.to_uri(false);
        assert!(printed.contains("passphrase=***"), "{printed}");
        assert!(!printed.contains("abc"), "{printed}");
        let back = parse_uri(&c.to_uri(true), "a.ts").unwrap();
        assert_eq!(back, c);
        let v6 = parse_uri("srt://[::1]:9000?mode=caller", "a.ts").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 9000));
    }

    #[test]
    fn refuses_bad_values_with_advice() {
        let err = |u: &str| {
            parse_uri(u, "a.ts")
                .and_then(|c| c.validate().map(|_| c))
                .unwrap_err()
        };
        assert_eq!(err("srt://:9000?latency=10"), ConfigError::Latency(10));
        assert_eq!(err("srt://:9000?oheadbw=4"), ConfigError::Overhead(4));
        assert_eq!(err("srt://:9000?oheadbw=101"), ConfigError::Overhead(101));
        assert_eq!(
            err("srt://:9000?passphrase=short&pbkeylen=16"),
            ConfigError::PassphraseLength(5)
        );
        assert_eq!(
            err(&format!("srt://:9000?passphrase={}", "x".repeat(80))),
            ConfigError::PassphraseLength(80)
        );
        assert_eq!(
            err("srt://:9000?pbkeylen=32"),
            ConfigError::EncryptionWithoutPassphrase
        );
        assert_eq!(
            err("srt://:9000?mode=caller"),
            ConfigError::NoHost(Mode::Caller)
        );
        assert_eq!(err("srt://host"), ConfigError::NoPort);
        assert!(matches!(
            err("srt://:9000?qos=true"),
            ConfigError::UnknownOption { .. }
        ));
        assert!(matches!(
            err("srt://:9000?overheadbandwidth=25"),
            ConfigError::UnknownOption { .. }
        ));
        assert!(matches!(
            err("srt://:9000?pbkeylen=20&passphrase=0123456789"),
            ConfigError::OptionValue { .. }
        ));
        assert!(matches!(err("udp://:9000"), ConfigError::UriScheme(_)));
        assert!(matches!(err("srt://:70000"), ConfigError::Uri { .. }));
        assert!(matches!(err("srt://a b:9000"), ConfigError::BadHost(_)));
        let msg = err("srt://:9000?latency=10").to_string();
        assert!(msg.contains("20 to 8000"), "{msg}");
    }

    #[test]
    fn any_address_listens_and_keys_are_given_once() {
        for uri in ["srt://[::]:9000", "srt://0.0.0.0:9000", "srt://:9000"] {
            assert_eq!(
                parse_uri(uri, "a.ts").unwrap().mode,
                Mode::Listener,
                "{uri}"
            );
        }
        assert_eq!(parse_uri("srt://[::]:9000", "a.ts").unwrap().host, "::");
        assert_eq!(
            parse_uri("srt://:9000?latency=200&latency=300", "a.ts"),
            Err(ConfigError::DuplicateOption {
                key: "latency".into()
            })
        );
        // Every listed key is one the parser takes.
        for key in URI_KEYS {
            let r = parse_uri(&format!("srt://:9000?{key}=1"), "a.ts");
            assert!(
                !matches!(r, Err(ConfigError::UnknownOption { .. })),
                "{key}"
            );
        }
    }

    #[test]
    fn encryption_is_read_as_users_spell_it() {
        for (text, want) in [
            ("aes-256", Encryption::Aes256),
            ("AES256", Encryption::Aes256),
            ("aes_192", Encryption::Aes192),
            ("AES-128", Encryption::Aes128),
            ("32", Encryption::Aes256),
            ("none", Encryption::None),
        ] {
            assert_eq!(text.parse::<Encryption>(), Ok(want), "{text}");
        }
        assert!("aes-512".parse::<Encryption>().is_err());
        let c = parse_uri("srt://:9000?pbkeylen=aes-256&passphrase=0123456789", "a.ts").unwrap();
        assert_eq!(c.encryption, Encryption::Aes256);
    }

    #[test]
    fn masking_hides_passphrases_in_any_uri() {
        assert_eq!(
            mask_uri("srt://h:1?latency=5&passphrase=secretsecret"),
            "srt://h:1?latency=5&passphrase=***"
        );
    }
}
