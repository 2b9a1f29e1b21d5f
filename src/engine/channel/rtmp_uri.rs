//! RTMP/RTMPS output URIs: `rtmp://host[:port]/app/KEY` and
//! `rtmps://host[:port]/app/KEY` (default ports 1935 and 443). The stream
//! key, with any query the platform needs (`KEY?s_bl=…`), is a secret:
//! printed as `***`. Options of our other outputs given here are refused
//! by name rather than sent to the platform as part of the key.

use super::udp_uri::value_error;
use crate::engine::config::rtmp_text::{rtmp_scheme, RtmpText, RTMP_OWN_KEYS};
use crate::engine::config::{mask_uri, ConfigError, URI_KEYS};
use crate::engine::secret::StreamKey;

/// Default port of `rtmp://`.
pub const RTMP_PORT: u16 = 1935;
/// Default port of `rtmps://`.
pub const RTMPS_PORT: u16 = 443;

/// Keys of our other outputs that mean nothing on an RTMP output.
const OTHER_OUTPUT_KEYS: &[&str] = &[
    "ttl",
    "iface",
    "localaddr",
    "delay",
    "pacing",
    "rotate_secs",
    "rotate_mb",
    "pcr_repetition_ms",
    "program",
    "black_secs",
    "freeze_secs",
    "silence_secs",
];

/// An RTMP or RTMPS destination (a platform's ingest, a media server).
#[derive(Debug, Clone, PartialEq)]
pub struct RtmpOutput {
    /// `rtmps://`: RTMP over TLS.
    pub secure: bool,
    pub host: String,
    pub port: u16,
    /// The application (`live`, `live2`, `app`, `rtmp`…).
    pub app: String,
    pub key: StreamKey,
    /// RTMPS: check the server's certificate against the system's CAs
    /// (`tls_verify=false` accepts any: a test server's self-signed one).
    pub tls_verify: bool,
}

impl RtmpOutput {
    /// The URI with the key masked (as every face shows it).
    pub fn display(&self) -> String {
        self.uri_with(&self.key.to_string())
    }

    /// The URI with the key in clear: for the file the user keeps, never
    /// for logs or responses.
    pub fn to_uri_with_key(&self) -> String {
        self.uri_with(self.key.expose())
    }

    fn uri_with(&self, key: &str) -> String {
        let scheme = if self.secure { "rtmps" } else { "rtmp" };
        let default = if self.secure { RTMPS_PORT } else { RTMP_PORT };
        let host = crate::engine::config::url_host(&self.host);
        let port = if self.port == default {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        let options = if self.tls_verify {
            ""
        } else {
            "?tls_verify=false"
        };
        format!("{scheme}://{host}{port}/{}/{key}{options}", self.app)
    }

    /// Checks a destination however it was made (URI, form, API).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, value: &str, why: &str| Err(value_error(key, value, why));
        if self.host.is_empty() || self.host.chars().any(|c| c.is_whitespace() || c == '/') {
            return bad(
                "host",
                &self.host,
                "give the server's host name or address, e.g. rtmp://a.rtmp.youtube.com/live2/KEY",
            );
        }
        if self.port == 0 {
            return bad(
                "port",
                "0",
                "give a port from 1 to 65535 (default 1935, rtmps 443)",
            );
        }
        if self.app.is_empty() {
            return bad(
                "app",
                "",
                "give the application and the stream key: rtmp://host/APP/KEY",
            );
        }
        if self.key.is_empty() {
            return bad(
                "key",
                "",
                "no stream key: give it after the application, rtmp://host/app/KEY (the platform shows it)",
            );
        }
        if !self.tls_verify && !self.secure {
            return bad(
                "tls_verify",
                "false",
                "applies to rtmps:// only (rtmp:// has no TLS)",
            );
        }
        if self.key.expose() == crate::engine::config::rtmp_text::MASK {
            return bad(
                "key",
                "***",
                "the stream key is masked: type the key itself in its place",
            );
        }
        if self
            .key
            .expose()
            .chars()
            .any(|c| c.is_control() || c == ' ')
        {
            return bad(
                "key",
                "***",
                "the stream key has spaces or control characters: copy it again from the platform",
            );
        }
        Ok(())
    }
}

/// Whether `uri` is an RTMP or RTMPS URI.
pub(crate) fn is_rtmp(uri: &str) -> bool {
    rtmp_scheme(uri).is_some()
}

/// Parses `rtmp[s]://host[:port]/app/KEY[?query]`; the error never shows the key.
pub(crate) fn parse_rtmp(uri: &str) -> Result<RtmpOutput, ConfigError> {
    let text = RtmpText::split(uri).ok_or_else(|| ConfigError::Uri {
        uri: mask_uri(uri),
        why: "not an RTMP URI: use rtmp://host/app/KEY or rtmps://host/app/KEY".into(),
    })?;
    let secure = text.scheme == "rtmps";
    let mut tls_verify = true;
    for (k, v) in &text.own {
        match *k {
            "tls_verify" => tls_verify = parse_bool(k, v)?,
            // `profile=` is taken off before (the transcoding output's).
            _ => return Err(value_error(k, v, "not an option of rtmp:// outputs")),
        }
    }
    let query = text.key.split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&') {
        let k = pair.split_once('=').map_or(pair, |(k, _)| k);
        if URI_KEYS.contains(&k) || OTHER_OUTPUT_KEYS.contains(&k) {
            return Err(value_error(
                k,
                "",
                &format!(
                    "not an option of rtmp:// outputs (ours: {}; any other query is part of the stream key, for the platform)",
                    RTMP_OWN_KEYS.join(", ")
                ),
            ));
        }
    }
    let (host, port) = split_authority(text.authority)?;
    let port = match port {
        None => {
            if secure {
                RTMPS_PORT
            } else {
                RTMP_PORT
            }
        }
        Some(p) => p.parse::<u16>().map_err(|_| {
            value_error(
                "port",
                p,
                "give a port from 1 to 65535 (default 1935, rtmps 443)",
            )
        })?,
    };
    Ok(RtmpOutput {
        secure,
        host,
        port,
        app: text.app.to_string(),
        key: StreamKey::new(text.key),
        tls_verify,
    })
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(value_error(key, v, "give true or false")),
    }
}

/// `host[:port]`, IPv6 in brackets.
fn split_authority(a: &str) -> Result<(String, Option<&str>), ConfigError> {
    if let Some(v6) = a.strip_prefix('[') {
        let (h, rest) = v6
            .split_once(']')
            .ok_or_else(|| value_error("host", a, "unclosed [ in an IPv6 address"))?;
        return Ok((h.to_string(), rest.strip_prefix(':')));
    }
    match a.rsplit_once(':') {
        Some((h, p)) => Ok((h.to_string(), Some(p))),
        None => Ok((a.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(uri: &str) -> Result<RtmpOutput, ConfigError> {
        parse_rtmp(uri).and_then(|o| o.validate().map(|()| o))
    }

    #[test]
    fn default_ports_and_the_key_masked() {
        let o = checked("rtmp://a.rtmp.youtube.com/live2/abcd-1234").unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.app.as_str()),
            ("a.rtmp.youtube.com", 1935, "live2")
        );
        assert_eq!(o.key.expose(), "abcd-1234");
        assert_eq!(o.display(), "rtmp://a.rtmp.youtube.com/live2/***");
        assert_eq!(
            o.to_uri_with_key(),
            "rtmp://a.rtmp.youtube.com/live2/abcd-1234"
        );
        let s = checked("rtmps://live-api-s.facebook.com/rtmp/FB-1-0?s_bl=1&s_psm=1").unwrap();
        assert!(s.secure);
        assert_eq!(s.port, 443);
        assert_eq!(s.key.expose(), "FB-1-0?s_bl=1&s_psm=1");
        assert_eq!(s.display(), "rtmps://live-api-s.facebook.com/rtmp/***");
        let t = checked("rtmps://h/live/k?s_bl=1&tls_verify=false").unwrap();
        assert!(!t.tls_verify);
        assert_eq!(t.key.expose(), "k?s_bl=1");
        assert_eq!(t.display(), "rtmps://h/live/***?tls_verify=false");
        let p = checked("rtmp://[::1]:1936/live/k").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 1936));
        assert_eq!(p.display(), "rtmp://[::1]:1936/live/***");
    }

    #[test]
    fn refusals_name_the_field_never_the_key() {
        for (uri, key) in [
            ("rtmp://h/live", "key"),
            ("rtmp://h/live/", "key"),
            ("rtmp://h", "app"),
            ("rtmp://h:0/live/secret-k", "port"),
            ("rtmp://h:99999/live/secret-k", "port"),
            ("rtmp://h:x/live/secret-k", "port"),
            ("rtmp:///live/secret-k", "host"),
            ("rtmp://h/live/secret-k?latency=200", "latency"),
            ("rtmp://h/live/secret-k?ttl=4", "ttl"),
            ("rtmp://h/live/secret-k?tls_verify=false", "tls_verify"),
            ("rtmps://h/live/secret-k?tls_verify=maybe", "tls_verify"),
        ] {
            let e = checked(uri).unwrap_err().to_string();
            assert!(e.starts_with(key), "{uri}: {e}");
            assert!(!e.contains("secret"), "{uri}: {e}");
        }
    }
}
